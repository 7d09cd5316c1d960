//! A result stream of the driver: read on the fetching task's worker thread on a multi-threaded
//! runtime, else by a blocking thread a few batches ahead of the cursor.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchReader};
use async_trait::async_trait;
use dbapi::driver::BatchSource;
use dbapi::{Error, Result};
use tokio::sync::mpsc;

use crate::native::Native;

/// How many batches are read ahead of the cursor.
const READ_AHEAD: usize = 2;

/// Whether a cursor's statement was cancelled; shared by the cursor, its cancel token and its
/// result, so that errors after a cancel say so.
pub(crate) type Cancelled = Arc<AtomicBool>;

/// The batches of one result.
pub(crate) struct Stream {
    schema: SchemaRef,
    source: Source,
    cancelled: Cancelled,
    done: bool,
}

/// Where a result's batches come from.
enum Source {
    /// Read on the task's own worker thread, the runtime told (`block_in_place`): on a
    /// multi-threaded runtime, where a batch costs no hand-over between threads.
    Inline {
        native: Arc<Native>,
        /// Taken when dropped, with the statement: released under the connection's lock.
        reader: Option<Box<dyn RecordBatchReader + Send>>,
        keep: Option<Box<dyn std::any::Any + Send>>,
    },
    /// Read by a blocking thread a few batches ahead and handed over (a current-thread
    /// runtime cannot block its only thread).
    Pump(mpsc::Receiver<Result<RecordBatch>>),
}

impl Drop for Source {
    fn drop(&mut self) {
        if let Source::Inline {
            native,
            reader,
            keep,
        } = self
        {
            // The stream first, then the statement it came from, under the lock, off the
            // async executor.
            native.release_later(Box::new((reader.take(), keep.take())));
        }
    }
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("columns", &self.schema.fields().len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Stream {
    /// Starts reading `reader` on a blocking thread. `keep` is held until the reader is
    /// dropped (the statement the stream belongs to must outlive it).
    pub(crate) fn start<K: Send + 'static>(
        native: Arc<Native>,
        reader: Box<dyn RecordBatchReader + Send>,
        keep: K,
        cancelled: Cancelled,
    ) -> Stream {
        let schema = reader.schema();
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let source = if multi_thread {
            Source::Inline {
                native,
                reader: Some(reader),
                keep: Some(Box::new(keep)),
            }
        } else {
            let (tx, rx) = mpsc::channel(READ_AHEAD);
            tokio::task::spawn_blocking(move || pump(&native, reader, keep, &tx));
            Source::Pump(rx)
        };
        Stream {
            schema,
            source,
            cancelled,
            done: false,
        }
    }
}

/// The next batch of `reader`, read under the connection's lock (`None` at the end).
fn read_one(
    native: &Native,
    reader: &mut (dyn RecordBatchReader + Send),
) -> Option<Result<RecordBatch>> {
    let _entered = match native.enter() {
        Ok(entered) => entered,
        Err(e) => return Some(Err(e)),
    };
    reader
        .next()
        .map(|item| item.map_err(|e| native.arrow_error(&e, "reading the result")))
}

/// Reads every batch of `reader` into `tx`, each read under the connection's lock, until the
/// end, an error, or the receiver is gone.
fn pump<K>(
    native: &Native,
    mut reader: Box<dyn RecordBatchReader + Send>,
    keep: K,
    tx: &mpsc::Sender<Result<RecordBatch>>,
) {
    // The stream first, then the statement it came from, under the lock.
    let release = |reader, keep| {
        let _entered = native.enter();
        drop(reader);
        drop(keep);
    };
    loop {
        match read_one(native, reader.as_mut()) {
            Some(Ok(batch)) => {
                if tx.blocking_send(Ok(batch)).is_err() {
                    break;
                }
            }
            // The end, or an error: the driver's handles are released before the cursor
            // hears of it, so that its next statement finds the connection free (a
            // cancelled PostgreSQL query's stream released after the next query began broke
            // that query's result).
            last => {
                release(reader, keep);
                if let Some(Err(e)) = last {
                    let _ = tx.blocking_send(Err(e));
                }
                return;
            }
        }
    }
    release(reader, keep);
}

#[async_trait]
impl BatchSource for Stream {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.done {
            return Ok(None);
        }
        if self.cancelled.load(Ordering::Acquire) {
            self.done = true;
            return Err(Error::operational("the statement was cancelled").cancelled());
        }
        let next = match &mut self.source {
            Source::Inline { native, reader, .. } => match reader.as_mut() {
                Some(reader) => tokio::task::block_in_place(|| read_one(native, reader.as_mut())),
                None => None,
            },
            Source::Pump(batches) => batches.recv().await,
        };
        match next {
            Some(Ok(batch)) => Ok(Some(batch)),
            Some(Err(e)) => {
                self.done = true;
                if self.cancelled.load(Ordering::Acquire) {
                    Err(e.cancelled())
                } else {
                    Err(e)
                }
            }
            None => {
                self.done = true;
                if self.cancelled.load(Ordering::Acquire) {
                    Err(Error::operational("the statement was cancelled").cancelled())
                } else {
                    Ok(None)
                }
            }
        }
    }

    fn schema(&self) -> Option<SchemaRef> {
        Some(Arc::clone(&self.schema))
    }
}

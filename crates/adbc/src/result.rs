//! A result stream of the driver: read on the fetching task's worker thread on a multi-threaded
//! runtime, else by a blocking thread a few batches ahead of the cursor.
//!
//! Each result is an open result of its connection (`crate::slot`), which a driver that reads
//! one result at a time (PostgreSQL's) gets read into memory before any other call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use dbapi::driver::BatchSource;
use dbapi::{Error, Result};
use tokio::sync::mpsc;

use crate::native::Native;
use crate::slot::{OpenResult, Slot, lock, read_next};

/// How many batches are read ahead of the cursor.
const READ_AHEAD: usize = 2;

/// Whether a cursor's statement was cancelled; shared by the cursor, its cancel token and its
/// result, so that errors after a cancel say so.
pub(crate) type Cancelled = Arc<AtomicBool>;

/// The batches of one result.
pub(crate) struct Stream {
    schema: SchemaRef,
    source: Source,
    /// Held as long as the result is (a prepared statement's mark that it is being read).
    _keep: Box<dyn std::any::Any + Send>,
    cancelled: Cancelled,
    done: bool,
}

/// Where a result's batches come from.
enum Source {
    /// Read on the task's own worker thread, the runtime told (`block_in_place`): on a
    /// multi-threaded runtime, where a batch costs no hand-over between threads.
    Inline {
        native: Arc<Native>,
        slot: OpenResult,
    },
    /// Read by a blocking thread a few batches ahead and handed over (a current-thread
    /// runtime cannot block its only thread).
    Pump {
        native: Arc<Native>,
        batches: mpsc::Receiver<Result<RecordBatch>>,
        slot: OpenResult,
    },
}

impl Drop for Source {
    fn drop(&mut self) {
        let (Source::Inline { native, slot } | Source::Pump { native, slot, .. }) = self;
        // Between two reads: released before the next call (the stream first, then the
        // statement it came from, under the lock, off the async executor). During one (a
        // reading thread's): the thread releases them when it ends.
        let taken = {
            let mut slot = lock(slot);
            slot.left = true;
            slot.buffered.clear();
            slot.handles.take()
        };
        if let Some(taken) = taken {
            native.release_later(Box::new(taken));
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
    /// Starts reading the open result `slot`; `keep` is held as long as the stream.
    pub(crate) fn start<K: Send + 'static>(
        native: Arc<Native>,
        slot: OpenResult,
        keep: K,
        cancelled: Cancelled,
    ) -> Stream {
        let schema = Arc::clone(&lock(&slot).schema);
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let source = if multi_thread {
            Source::Inline { native, slot }
        } else {
            let (tx, rx) = mpsc::channel(READ_AHEAD);
            let (pumping, reading) = (Arc::clone(&native), Arc::clone(&slot));
            tokio::task::spawn_blocking(move || pump(&pumping, &reading, &tx));
            Source::Pump {
                native,
                batches: rx,
                slot,
            }
        };
        Stream {
            schema,
            source,
            _keep: Box::new(keep),
            cancelled,
            done: false,
        }
    }
}

/// Reads every batch of the open result into `tx`, each read under the connection's lock,
/// until the end, an error, or the result is let go of. At the end or an error the handles
/// are released before the cursor hears of it, so that its next statement finds the
/// connection free (a cancelled PostgreSQL query's stream released after the next query
/// began broke that query's result).
fn pump(native: &Native, slot: &Mutex<Slot>, tx: &mpsc::Sender<Result<RecordBatch>>) {
    let errors = |e: &arrow::error::ArrowError| native.arrow_error(e, "reading the result");
    loop {
        let next = match native.enter_to_read() {
            Ok(_entered) => read_next(&errors, slot),
            Err(e) => Some(Err(e)),
        };
        match next {
            Some(Ok(batch)) => {
                if tx.blocking_send(Ok(batch)).is_err() {
                    return;
                }
            }
            Some(Err(e)) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
            None => return,
        }
    }
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
            Source::Inline { native, slot } => {
                tokio::task::block_in_place(|| match native.enter_to_read() {
                    Ok(_entered) => {
                        read_next(&|e| native.arrow_error(e, "reading the result"), slot)
                    }
                    Err(e) => Some(Err(e)),
                })
            }
            Source::Pump { batches, .. } => batches.recv().await,
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

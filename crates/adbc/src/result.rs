//! A result stream of the driver: read on the fetching task's worker thread on a multi-threaded
//! runtime, else by a blocking thread a few batches ahead of the cursor.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

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
    Pump {
        native: Arc<Native>,
        batches: mpsc::Receiver<Result<RecordBatch>>,
        handles: Arc<Mutex<Pumped>>,
    },
}

/// The driver's handles a reading thread reads, shared with the result: the thread takes
/// them out for each read (under the connection's lock) and puts them back, so that a
/// result let go of releases them before the connection's next call, whatever the thread is
/// doing — between reads the result takes them and leaves them for the next call to release
/// (under its lock, first); during a read the thread releases them itself before it lets
/// the lock go.
pub(crate) struct Pumped {
    /// The stream, then the statement it came from (released in that order).
    handles: Option<Handles>,
    /// Whether the result was let go of.
    left: bool,
}

/// A stream and what must outlive it, dropped in that order.
type Handles = (
    Box<dyn RecordBatchReader + Send>,
    Box<dyn std::any::Any + Send>,
);

/// Locks `pumped` (held only to take or put the handles, never across a driver call).
fn lock(pumped: &Mutex<Pumped>) -> MutexGuard<'_, Pumped> {
    pumped.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for Source {
    fn drop(&mut self) {
        match self {
            Source::Inline {
                native,
                reader,
                keep,
            } => {
                // The stream first, then the statement it came from, under the lock, off the
                // async executor.
                native.release_later(Box::new((reader.take(), keep.take())));
            }
            Source::Pump {
                native, handles, ..
            } => {
                // Between two reads: released before the next call. During one: the
                // reading thread releases them when it ends.
                let taken = {
                    let mut pumped = lock(handles);
                    pumped.left = true;
                    pumped.handles.take()
                };
                if let Some(taken) = taken {
                    native.release_later(Box::new(taken));
                }
            }
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
            let handles = Arc::new(Mutex::new(Pumped {
                handles: Some((reader, Box::new(keep))),
                left: false,
            }));
            let (pumping, reading) = (Arc::clone(&native), Arc::clone(&handles));
            tokio::task::spawn_blocking(move || pump(&pumping, &reading, &tx));
            Source::Pump {
                native,
                batches: rx,
                handles,
            }
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
    next_of(native, reader)
}

/// The next batch of `reader` (`None` at the end), the lock already held.
fn next_of(
    native: &Native,
    reader: &mut (dyn RecordBatchReader + Send),
) -> Option<Result<RecordBatch>> {
    reader
        .next()
        .map(|item| item.map_err(|e| native.arrow_error(&e, "reading the result")))
}

/// Reads every batch of the shared handles into `tx`, each read under the connection's lock,
/// until the end, an error, or the result is let go of. At the end or an error the handles
/// are released before the cursor hears of it, so that its next statement finds the
/// connection free (a cancelled PostgreSQL query's stream released after the next query
/// began broke that query's result).
fn pump(native: &Native, pumped: &Mutex<Pumped>, tx: &mpsc::Sender<Result<RecordBatch>>) {
    loop {
        let next = {
            let entered = native.enter();
            // Taken by the result when it was let go of between two reads: released by the
            // next call.
            let Some(mut handles) = lock(pumped).handles.take() else {
                return;
            };
            // The lock held to the end of this block, the handles released in it.
            let (next, _entered) = match entered {
                Ok(entered) => (next_of(native, handles.0.as_mut()), Some(entered)),
                Err(e) => (Some(Err(e)), None),
            };
            let mut shared = lock(pumped);
            if matches!(next, Some(Ok(_))) && !shared.left {
                shared.handles = Some(handles);
                next
            } else {
                // The end, an error, or a result let go of during the read: released here,
                // under the lock, before the next call can begin.
                let left = shared.left;
                drop(shared);
                drop(handles);
                if left {
                    return;
                }
                next
            }
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
            Source::Inline { native, reader, .. } => match reader.as_mut() {
                Some(reader) => tokio::task::block_in_place(|| read_one(native, reader.as_mut())),
                None => None,
            },
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

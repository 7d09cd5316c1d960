//! The open results of a connection: each result the driver gave has one [`Slot`], shared by
//! its stream, the thread reading it ahead (if any) and the connection, so that a driver that
//! reads one result at a time (PostgreSQL's) gets the others read into memory before it is
//! asked anything else.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::record_batch::{RecordBatch, RecordBatchReader};
use dbapi::{Error, Result};

/// How a connection maps an error the driver raised while a result was read.
pub(crate) type Errors<'a> = dyn Fn(&ArrowError) -> Error + 'a;

/// A result the driver gave, shared by its stream, the thread reading it ahead (if any) and
/// the connection: opened under the connection's lock (`Call::open_result`).
pub(crate) type OpenResult = Arc<Mutex<Slot>>;

/// The driver's handles of one result, and what was read of it into memory. Everything is
/// done to it under the connection's lock, except letting go of it; the slot itself is held
/// across a driver call only by the stream's own inline read, so that letting go never waits
/// on the driver.
pub(crate) struct Slot {
    /// The result's schema.
    pub(crate) schema: SchemaRef,
    /// The stream, then the statement it came from (released in that order); `None` once
    /// released (the end, an error, let go of, or read into memory).
    pub(crate) handles: Option<Handles>,
    /// Batches read to the end into memory so that the driver could run another statement.
    pub(crate) buffered: VecDeque<Result<RecordBatch>>,
    /// Whether the result was let go of.
    pub(crate) left: bool,
}

/// A stream and what must outlive it, dropped in that order.
pub(crate) type Handles = (
    Box<dyn RecordBatchReader + Send>,
    Box<dyn std::any::Any + Send>,
);

impl Slot {
    /// A slot for `reader`, keeping `keep` (the statement it came from) as long as it is read.
    pub(crate) fn new(
        reader: Box<dyn RecordBatchReader + Send>,
        keep: Box<dyn std::any::Any + Send>,
    ) -> Slot {
        Slot {
            schema: reader.schema(),
            handles: Some((reader, keep)),
            buffered: VecDeque::new(),
            left: false,
        }
    }
}

/// Locks `slot`.
pub(crate) fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The next batch of the result in `slot` (the connection's lock held): from memory first,
/// else read from the driver, the slot let go of meanwhile so that a stream let go of never
/// waits for the driver. The handles are released at the end, at an error, and when the
/// result was let go of during the read (`None` then: nobody listens).
pub(crate) fn read_next(errors: &Errors<'_>, slot: &Mutex<Slot>) -> Option<Result<RecordBatch>> {
    let mut handles = {
        let mut open = lock(slot);
        if open.left {
            return None;
        }
        if let Some(next) = open.buffered.pop_front() {
            return Some(next);
        }
        // Released: the end was read (into memory, or before).
        open.handles.take()?
    };
    let next = next_of(errors, handles.0.as_mut());
    let mut open = lock(slot);
    if matches!(next, Some(Ok(_))) && !open.left {
        open.handles = Some(handles);
        return next;
    }
    let left = open.left;
    drop(open);
    drop(handles);
    if left { None } else { next }
}

/// Reads the rest of the result in `slot` into memory and releases its handles (the
/// connection's lock held): the driver may then run another statement. The slot is not held
/// while the driver reads, so that a stream let go of meanwhile never waits for it.
pub(crate) fn read_into_memory(errors: &Errors<'_>, slot: &Mutex<Slot>) {
    let Some(mut handles) = lock(slot).handles.take() else {
        return;
    };
    let mut read = VecDeque::new();
    while let Some(next) = next_of(errors, handles.0.as_mut()) {
        let failed = next.is_err();
        read.push_back(next);
        if failed {
            break;
        }
    }
    drop(handles);
    let mut open = lock(slot);
    if !open.left {
        open.buffered.extend(read);
    }
}

/// The next batch of `reader` (`None` at the end), the connection's lock held.
fn next_of(
    errors: &Errors<'_>,
    reader: &mut (dyn RecordBatchReader + Send),
) -> Option<Result<RecordBatch>> {
    reader.next().map(|item| item.map_err(|e| errors(&e)))
}

//! Owned result streams: a cursor turned into a `'static` stream of record batches or typed
//! rows that knows its schema, to hand to another task or to Arrow tools.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use arrow::datatypes::{Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::record_batch::{RecordBatch, RecordBatchReader};
use futures::stream::{self, BoxStream, Stream, StreamExt};
use serde::de::DeserializeOwned;

use crate::{Cursor, Result, Row};

/// The remaining record batches of a cursor, owning it ([`into_batches`](IntoStreams::into_batches)).
/// The stream ends after the first error.
pub struct BatchStream {
    schema: SchemaRef,
    batches: BoxStream<'static, Result<RecordBatch>>,
}

impl BatchStream {
    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

impl Stream for BatchStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.batches.poll_next_unpin(cx)
    }
}

impl std::fmt::Debug for BatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchStream")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// The remaining rows of a cursor as `T`s, owning it ([`into_rows_as`](IntoStreams::into_rows_as)).
/// The stream ends after the first error.
pub struct RowStream<T> {
    schema: SchemaRef,
    rows: BoxStream<'static, Result<T>>,
}

impl<T> RowStream<T> {
    /// The schema of the rows.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

impl<T> Stream for RowStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rows.poll_next_unpin(cx)
    }
}

impl<T> std::fmt::Debug for RowStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// Rows read at a time by [`RowStream`].
const ROW_CHUNK: usize = 8192;

/// Owned streams from a boxed cursor, as the drivers' `execute` leaves it.
///
/// ```
/// # async fn run(mut cursor: Box<dyn dbapi::Cursor>) -> dbapi::Result<()> {
/// use dbapi::IntoStreams;
/// use futures::TryStreamExt;
///
/// cursor.execute("SELECT id, name FROM users", dbapi::params![]).await?;
/// let rows = cursor.into_rows_as::<(i64, String)>().await?;
/// // The stream owns the cursor: hand it to another task.
/// let users = tokio::spawn(rows.try_collect::<Vec<_>>()).await.unwrap()?;
/// # Ok(()) }
/// ```
pub trait IntoStreams {
    /// The remaining record batches as a `'static` stream that knows its schema: the first
    /// batch's (read now, since the data's schema is authoritative), else the announced one,
    /// else an empty schema.
    ///
    /// # Errors
    /// The error of reading the first batch, when that was needed for the schema.
    fn into_batches(self) -> impl Future<Output = Result<BatchStream>> + Send;

    /// The remaining rows as a `'static` stream of `T`s (see [`Row::deserialize`]), read a
    /// chunk at a time.
    ///
    /// # Errors
    /// As [`IntoStreams::into_batches`].
    fn into_rows_as<T: DeserializeOwned + Send + 'static>(
        self,
    ) -> impl Future<Output = Result<RowStream<T>>> + Send;
}

impl IntoStreams for Box<dyn Cursor> {
    async fn into_batches(mut self) -> Result<BatchStream> {
        let (schema, first) = schema_of(&mut self).await?;
        let rest = crate::cursor::batches_of(self);
        Ok(BatchStream {
            schema,
            batches: stream::iter(first.map(Ok)).chain(rest).boxed(),
        })
    }

    async fn into_rows_as<T: DeserializeOwned + Send + 'static>(mut self) -> Result<RowStream<T>> {
        // The first chunk brings the data's schema; none of its rows is lost.
        let first = self.fetchmany(Some(ROW_CHUNK)).await?;
        let schema = self
            .schema()
            .unwrap_or_else(|| SchemaRef::new(Schema::empty()));
        Ok(RowStream {
            schema,
            rows: rows_from(self, first),
        })
    }
}

/// The schema of a cursor's result and its first batch.
async fn schema_of(cursor: &mut Box<dyn Cursor>) -> Result<(SchemaRef, Option<RecordBatch>)> {
    let first = cursor.fetch_batch().await?;
    let schema = first
        .as_ref()
        .map(RecordBatch::schema)
        .or_else(|| cursor.schema())
        .unwrap_or_else(|| SchemaRef::new(Schema::empty()));
    Ok((schema, first))
}

/// `first`, then the cursor's remaining rows, as `T`s.
fn rows_from<T: DeserializeOwned + Send + 'static>(
    cursor: Box<dyn Cursor>,
    first: Vec<Row>,
) -> BoxStream<'static, Result<T>> {
    stream::unfold(
        (cursor, first.into_iter(), false),
        |(mut cursor, mut pending, failed)| async move {
            if failed {
                return None;
            }
            loop {
                if let Some(row) = pending.next() {
                    let item = row.deserialize::<T>();
                    let failed = item.is_err();
                    return Some((item, (cursor, pending, failed)));
                }
                match cursor.fetchmany(Some(ROW_CHUNK)).await {
                    Ok(rows) if rows.is_empty() => return None,
                    Ok(rows) => pending = rows.into_iter(),
                    Err(e) => return Some((Err(e), (cursor, pending, true))),
                }
            }
        },
    )
    .boxed()
}

/// A blocking reader of record batches: what [`crate::blocking::Cursor::into_reader`] gives,
/// an Arrow [`RecordBatchReader`] (and through [`BatchReader::into_ffi`], an Arrow C stream).
pub struct BatchReader {
    schema: SchemaRef,
    next: Box<dyn FnMut() -> Option<Result<RecordBatch>> + Send>,
}

impl BatchReader {
    pub(crate) fn new(
        schema: SchemaRef,
        next: impl FnMut() -> Option<Result<RecordBatch>> + Send + 'static,
    ) -> Self {
        BatchReader {
            schema,
            next: Box::new(next),
        }
    }

    /// A reader of `first` (a batch already read, e.g. to learn the schema) and then of what
    /// `fetch` returns, until it returns `None` or its first error: how a driver hands a
    /// result to a blocking Arrow consumer (an ADBC host, an Arrow C stream).
    pub fn from_fetch(
        schema: SchemaRef,
        first: Option<RecordBatch>,
        mut fetch: impl FnMut() -> Result<Option<RecordBatch>> + Send + 'static,
    ) -> Self {
        let mut first = first;
        let mut failed = false;
        BatchReader::new(schema, move || {
            if let Some(batch) = first.take() {
                return Some(Ok(batch));
            }
            if failed {
                return None;
            }
            let next = fetch();
            failed = next.is_err();
            next.transpose()
        })
    }

    /// The batches as an Arrow C stream (`ArrowArrayStream`), for tools in other languages
    /// or libraries (PyArrow, DuckDB, Polars) to read without copying.
    pub fn into_ffi(self) -> arrow::ffi_stream::FFI_ArrowArrayStream {
        arrow::ffi_stream::FFI_ArrowArrayStream::new(Box::new(self))
    }
}

impl Iterator for BatchReader {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        (self.next)().map(|item| item.map_err(|e| ArrowError::ExternalError(Box::new(e))))
    }
}

impl RecordBatchReader for BatchReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

impl std::fmt::Debug for BatchReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchReader")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// The batches of an Arrow reader as a stream. The reader is read on a thread of its own, two
/// batches ahead at most: a reader may block (files, or a blocking cursor of the same
/// connection) without stalling the runtime that sends the batches.
pub(crate) fn from_reader(
    reader: impl RecordBatchReader + Send + 'static,
) -> BoxStream<'static, Result<RecordBatch>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<RecordBatch>>(2);
    let spawned = std::thread::Builder::new()
        .name("dbapi-reader".into())
        .spawn(move || {
            for batch in reader {
                // The receiver is gone when the ingest ended (failed or was dropped).
                if tx.blocking_send(batch.map_err(crate::Error::from)).is_err() {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        let e = crate::Error::operational("cannot start the thread that reads the batches")
            .with_source(e);
        return stream::iter([Err(e)]).boxed();
    }
    stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed()
}

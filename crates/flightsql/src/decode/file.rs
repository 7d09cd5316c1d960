//! Arrow IPC files and streams on disk (or any reader), read through the same guard and decoder
//! as a server's result: a file from the internet is as hostile as a server.

use std::io::Read;

use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::record_batch::{RecordBatch, RecordBatchReader};
use bytes::Bytes;
use dbapi::{Error, Result};
use futures::{FutureExt, StreamExt};

use crate::config::Config;
use crate::config::Limits;
use crate::decode::framing::messages;
use crate::decode::stream::{FlightStreamReader, StreamItem};

/// The magic bytes (and padding) an Arrow IPC file starts with, before its stream.
const FILE_MAGIC: &[u8; 8] = b"ARROW1\0\0";

/// The most padding after a file's magic that is skipped (Arrow's writers align to 64).
const MAX_PADDING: usize = 4096;

/// How much of the source is read at a time.
const CHUNK: usize = 64 << 10;

/// An Arrow IPC file (`ARROW1` …) or IPC stream read from any [`Read`]er through the decode
/// guard: every message is checked before it is decoded (body and buffer sizes,
/// decompression bombs, row counts, schemas), exactly as a server's answer is, under the
/// limits of a [`Config`] (`max_message_size`, `max_decoded_size`, `max_batch_rows`).
///
/// An IPC file is read through the stream it holds (its footer is not needed); its batches
/// come in the order they were written.
///
/// ```
/// # fn main() -> dbapi::Result<()> {
/// use std::sync::Arc;
/// use arrow::array::{ArrayRef, Int64Array, RecordBatch};
///
/// let batch = RecordBatch::try_from_iter([(
///     "id",
///     Arc::new(Int64Array::from(vec![1_i64, 2, 3])) as ArrayRef,
/// )])?;
/// let mut file = Vec::new();
/// let mut writer = arrow::ipc::writer::FileWriter::try_new(&mut file, &batch.schema())?;
/// writer.write(&batch)?;
/// writer.finish()?;
/// drop(writer);
///
/// let reader = dbapi_flightsql::IpcFileReader::new(std::io::Cursor::new(file))?;
/// let rows: usize = reader.map(|b| b.map(|b| b.num_rows()).unwrap_or(0)).sum();
/// assert_eq!(rows, 3);
/// # Ok(()) }
/// ```
pub struct IpcFileReader {
    inner: FlightStreamReader,
    schema: SchemaRef,
    done: bool,
}

impl std::fmt::Debug for IpcFileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpcFileReader")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl IpcFileReader {
    /// Reads `source` under the default limits.
    ///
    /// # Errors
    /// As [`IpcFileReader::with_config`].
    pub fn new(source: impl Read + Send + 'static) -> Result<IpcFileReader> {
        IpcFileReader::with_config(source, &Config::new("localhost", 0))
    }

    /// Reads `source` under the limits `config` sets, up to and including its schema.
    ///
    /// # Errors
    /// An I/O error reading the source; an [`Internal`](dbapi::ErrorKind::Internal) error
    /// for bytes that are not an Arrow IPC file or stream, or a malformed schema; a
    /// [`Data`](dbapi::ErrorKind::Data) error naming the URL key of a limit passed.
    pub fn with_config(
        mut source: impl Read + Send + 'static,
        config: &Config,
    ) -> Result<IpcFileReader> {
        let limits = Limits::of(config);
        let mut start = Vec::with_capacity(FILE_MAGIC.len());
        (&mut source)
            .take(FILE_MAGIC.len() as u64)
            .read_to_end(&mut start)
            .map_err(|e| Error::operational(format!("cannot read the Arrow file: {e}")))?;
        // An IPC file holds an IPC stream after its magic; a stream starts with its first
        // message.
        let first = if start.starts_with(&FILE_MAGIC[..6]) {
            // The magic is padded to the writer's alignment (8 bytes, or 64 as Arrow's
            // writers do now): zeros until the stream's first message.
            let mut padding = 8;
            loop {
                let mut word = Vec::with_capacity(8);
                (&mut source)
                    .take(8)
                    .read_to_end(&mut word)
                    .map_err(|e| Error::operational(format!("cannot read the Arrow file: {e}")))?;
                padding += word.len();
                if word.iter().any(|&b| b != 0) || word.len() < 8 || padding > MAX_PADDING {
                    break Some(Ok(Bytes::from(word)));
                }
            }
        } else {
            Some(Ok(Bytes::from(start)))
        };
        let mut source = Some(source);
        // One buffer read into for the whole file; each chunk keeps only the bytes read.
        let mut scratch = Vec::new();
        let rest = std::iter::from_fn(move || {
            let reader = source.as_mut()?;
            scratch.resize(CHUNK, 0);
            loop {
                return match reader.read(&mut scratch) {
                    Ok(0) => {
                        source = None;
                        None
                    }
                    Ok(n) => Some(Ok(Bytes::copy_from_slice(&scratch[..n]))),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        source = None;
                        Some(Err(Error::operational(format!(
                            "cannot read the Arrow file: {e}"
                        ))))
                    }
                };
            }
        });
        let chunks = futures::stream::iter(first.into_iter().chain(rest)).boxed();
        let stream = messages(chunks, limits, "the Arrow file".to_owned());
        let mut inner = FlightStreamReader::from_messages(stream, limits);
        // The decoder yields the schema first, or nothing at all.
        let Some(StreamItem::Schema(schema)) = poll(&mut inner)? else {
            return Err(Error::internal(
                "the Arrow file holds no schema: it is not an Arrow IPC file or stream",
            ));
        };
        Ok(IpcFileReader {
            inner,
            schema,
            done: false,
        })
    }
}

/// The next item of a reader whose source never waits (it reads a `Read`er in place).
fn poll(reader: &mut FlightStreamReader) -> Result<Option<StreamItem>> {
    reader
        .next_item()
        .now_or_never()
        .unwrap_or_else(|| Err(Error::internal("reading the Arrow file would wait")))
}

impl Iterator for IpcFileReader {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match poll(&mut self.inner) {
                Ok(Some(StreamItem::Batch(batch))) => return Some(Ok(batch)),
                Ok(Some(StreamItem::Schema(_))) => {}
                Ok(None) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(ArrowError::ExternalError(Box::new(e))));
                }
            }
        }
        None
    }
}

impl RecordBatchReader for IpcFileReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

//! Result streams: a `DoGet` stream decoded into record batches, with every message checked
//! before the decoder reads it.

use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow_flight::decode::{DecodedPayload, FlightDataDecoder};
use arrow_flight::error::FlightError;
use dbapi::{Error, Result};
use futures::{FutureExt, StreamExt, TryStreamExt};

use crate::client::within;
use crate::error::{Transport, from_status};

/// What a result stream yields: its schema, then batches.
#[derive(Debug)]
pub(crate) enum StreamItem {
    Schema(SchemaRef),
    Batch(RecordBatch),
}

/// A `DoGet` stream (or the Arrow IPC stream of an `http(s)://` location) decoded into
/// record batches.
///
/// Empty keep-alive messages are skipped; dictionaries and compressed bodies (LZ4, ZSTD) are
/// decoded.
pub struct FlightStreamReader {
    source: Source,
    schema: Option<SchemaRef>,
}

/// Where the messages of a result stream come from.
enum Source {
    Flight {
        decoder: FlightDataDecoder,
        timeout: Option<(Duration, &'static str)>,
    },
    Http(crate::http::IpcBody),
}

impl std::fmt::Debug for FlightStreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightStreamReader")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl FlightStreamReader {
    /// Decodes a `DoGet` response: empty messages (keep-alives) are skipped and every
    /// message is checked before the decoder reads it.
    pub(crate) fn new(
        stream: tonic::Streaming<arrow_flight::FlightData>,
        timeout: Option<(Duration, &'static str)>,
    ) -> FlightStreamReader {
        let stream = stream
            .try_filter(|data| futures::future::ready(!data.data_header.is_empty()))
            .map_err(|s| FlightError::Tonic(Box::new(s)))
            .and_then(|data| futures::future::ready(check_message(&data).map(|()| data)));
        FlightStreamReader {
            source: Source::Flight {
                decoder: FlightDataDecoder::new(stream),
                timeout,
            },
            schema: None,
        }
    }

    /// Reads the Arrow IPC stream of an HTTP answer.
    pub(crate) fn from_http(body: crate::http::IpcBody) -> FlightStreamReader {
        FlightStreamReader {
            source: Source::Http(body),
            schema: None,
        }
    }

    /// The stream's schema, once its first message was read.
    pub fn schema(&self) -> Option<&SchemaRef> {
        self.schema.as_ref()
    }

    pub(crate) async fn next_item(&mut self) -> Result<Option<StreamItem>> {
        let item = match &mut self.source {
            Source::Flight { decoder, timeout } => next_flight_item(decoder, *timeout).await?,
            Source::Http(body) => body.next_item().await?,
        };
        if let Some(StreamItem::Schema(schema)) = &item {
            self.schema = Some(schema.clone());
        }
        Ok(item)
    }

    /// The next record batch, or `None` at the end of the stream.
    ///
    /// # Errors
    /// The server's error, a broken connection, a timeout, or an undecodable message.
    pub async fn read_chunk(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            match self.next_item().await? {
                None => return Ok(None),
                Some(StreamItem::Batch(batch)) => return Ok(Some(batch)),
                Some(StreamItem::Schema(_)) => {}
            }
        }
    }

    /// All remaining record batches.
    ///
    /// # Errors
    /// As [`FlightStreamReader::read_chunk`].
    pub async fn read_all(mut self) -> Result<Vec<RecordBatch>> {
        let mut batches = Vec::new();
        while let Some(batch) = self.read_chunk().await? {
            batches.push(batch);
        }
        Ok(batches)
    }

    /// All remaining record batches concatenated into one (an empty batch of the stream's
    /// schema when there are none).
    ///
    /// # Errors
    /// As [`FlightStreamReader::read_chunk`]; an error if the stream sent no schema.
    pub async fn read_all_concat(mut self) -> Result<RecordBatch> {
        let mut batches = Vec::new();
        while let Some(batch) = self.read_chunk().await? {
            batches.push(batch);
        }
        let schema = match (&self.schema, batches.first()) {
            (_, Some(b)) => b.schema(),
            (Some(s), None) => s.clone(),
            (None, None) => return Err(Error::internal("the stream ended without a schema")),
        };
        Ok(arrow::compute::concat_batches(&schema, &batches)?)
    }
}

/// The next schema or batch of a `DoGet` stream; `None` at its end.
async fn next_flight_item(
    decoder: &mut FlightDataDecoder,
    timeout: Option<(Duration, &'static str)>,
) -> Result<Option<StreamItem>> {
    loop {
        // The decoder must not take the process down on malformed input: a panic in it
        // becomes an error of this stream.
        let next = within(
            timeout,
            "waiting for the next message of a result stream",
            std::panic::AssertUnwindSafe(decoder.next()).catch_unwind(),
        )
        .await?
        .map_err(|_| {
            Error::internal(
                "cannot decode the stream: the IPC decoder failed on a malformed message",
            )
        })?;
        let Some(decoded) = next else {
            return Ok(None);
        };
        let decoded = decoded.map_err(flight_error)?;
        match decoded.payload {
            DecodedPayload::Schema(schema) => return Ok(Some(StreamItem::Schema(schema))),
            DecodedPayload::RecordBatch(batch) => return Ok(Some(StreamItem::Batch(batch))),
            DecodedPayload::None => {}
        }
    }
}

/// Checks that an IPC message's buffers lie inside its body, before the decoder reads them
/// (the decoder of this Arrow version panics on a truncated body).
fn check_message(data: &arrow_flight::FlightData) -> std::result::Result<(), FlightError> {
    use arrow::ipc::MessageHeader;
    let message = arrow::ipc::root_as_message(&data.data_header)
        .map_err(|e| FlightError::DecodeError(format!("invalid IPC message header: {e}")))?;
    let body = data.data_body.len();
    let declared = message.bodyLength();
    if usize::try_from(declared).map_or(true, |d| d > body) {
        return Err(FlightError::DecodeError(format!(
            "truncated message: the header declares a body of {declared} bytes, {body} arrived"
        )));
    }
    let buffers = match message.header_type() {
        MessageHeader::RecordBatch => message.header_as_record_batch().and_then(|b| b.buffers()),
        MessageHeader::DictionaryBatch => message
            .header_as_dictionary_batch()
            .and_then(|d| d.data())
            .and_then(|b| b.buffers()),
        _ => None,
    };
    for buffer in buffers.iter().flatten() {
        let end = buffer.offset().checked_add(buffer.length());
        let inside = buffer.offset() >= 0
            && buffer.length() >= 0
            && end
                .and_then(|e| usize::try_from(e).ok())
                .is_some_and(|e| e <= body);
        if !inside {
            return Err(FlightError::DecodeError(format!(
                "malformed message: a buffer at offset {} of length {} lies outside the {body}-byte body",
                buffer.offset(),
                buffer.length()
            )));
        }
    }
    Ok(())
}

/// An error of a stream whose call was answered: the connection worked, so a transport
/// failure now is a broken connection, never a TLS mismatch.
fn flight_error(e: FlightError) -> Error {
    match e {
        FlightError::Tonic(status) => from_status(&status, Transport::Established),
        other => Error::internal(format!("cannot decode the stream: {other}")),
    }
}

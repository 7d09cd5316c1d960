//! Result streams: a `DoGet` stream, or the IPC stream of an HTTP location, decoded into
//! record batches, with every message checked by the guard before the decoder reads it.

use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow_flight::FlightData;
use arrow_flight::decode::{DecodedPayload, FlightDataDecoder};
use arrow_flight::error::FlightError;
use dbapi::{Error, Result};
use futures::{FutureExt, Stream, StreamExt, TryStreamExt};

use crate::config::Limits;
use crate::decode::framing::messages;
use crate::decode::guard::{MessageGuard, check_batch, check_schema};
use crate::transport::{HttpBody, Transport, from_status, within};

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
/// decoded. Every message passes the decode guard first, whichever way it came.
pub struct FlightStreamReader {
    decoder: FlightDataDecoder,
    timeout: Option<(Duration, &'static str)>,
    schema: Option<SchemaRef>,
    /// The schema of the first batch: every later batch must have it.
    batch_schema: Option<SchemaRef>,
    limits: Limits,
}

impl std::fmt::Debug for FlightStreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightStreamReader")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// Messages on their way to the decoder, each checked by the guard; a guard's or a
/// transport's error travels inside the decoder's error type and comes out unchanged.
fn guarded(
    messages: impl Stream<Item = Result<FlightData>> + Send + 'static,
    limits: Limits,
) -> FlightDataDecoder {
    let mut guard = MessageGuard::new(limits);
    let checked = messages
        .try_filter(|data| futures::future::ready(!data.data_header.is_empty()))
        .and_then(move |data| futures::future::ready(guard.check(data)))
        .map_err(|e| FlightError::ExternalError(Box::new(e)));
    FlightDataDecoder::new(checked)
}

impl FlightStreamReader {
    /// Decodes a `DoGet` response.
    pub(crate) fn new(
        stream: tonic::Streaming<FlightData>,
        timeout: Option<(Duration, &'static str)>,
        limits: Limits,
    ) -> FlightStreamReader {
        // The call was answered: a transport failure now is a broken connection.
        let messages = stream.map_err(|s| from_status(&s, Transport::Established));
        FlightStreamReader {
            decoder: guarded(messages, limits),
            timeout,
            schema: None,
            batch_schema: None,
            limits,
        }
    }

    /// Reads the Arrow IPC stream of an HTTP answer.
    pub(crate) fn from_http(body: HttpBody, limits: Limits) -> FlightStreamReader {
        let what = body.what().to_owned();
        let chunks = futures::stream::try_unfold(body, |mut body| async move {
            Ok(body.next_chunk().await?.map(|chunk| (chunk, body)))
        })
        .boxed();
        // Each wait for a chunk has its own limit.
        FlightStreamReader::from_messages(messages(chunks, limits, what), limits)
    }

    /// Reads messages cut from an IPC stream (an HTTP answer, a file).
    pub(crate) fn from_messages(
        messages: impl Stream<Item = Result<FlightData>> + Send + 'static,
        limits: Limits,
    ) -> FlightStreamReader {
        FlightStreamReader {
            decoder: guarded(messages, limits),
            timeout: None,
            schema: None,
            batch_schema: None,
            limits,
        }
    }

    /// The stream's schema, once its first message was read.
    pub fn schema(&self) -> Option<&SchemaRef> {
        self.schema.as_ref()
    }

    pub(crate) async fn next_item(&mut self) -> Result<Option<StreamItem>> {
        let item = next_item(&mut self.decoder, self.timeout).await?;
        match &item {
            Some(StreamItem::Schema(schema)) => {
                check_schema(schema)?;
                self.schema = Some(schema.clone());
            }
            Some(StreamItem::Batch(batch)) => match &self.batch_schema {
                // The decoder announced this schema (checked above) before its first batch.
                None => {
                    check_batch(batch, self.limits)?;
                    self.batch_schema = Some(batch.schema());
                }
                Some(first) if first.fields() == batch.schema_ref().fields() => {
                    check_batch(batch, self.limits)?
                }
                Some(_) => {
                    return Err(Error::internal(
                        "the stream changed its schema after its first batch",
                    ));
                }
            },
            None => {}
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

/// The next schema or batch of a stream; `None` at its end.
async fn next_item(
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

/// An error of the decoder: the guard's or the transport's own error, or one of decoding.
fn flight_error(e: FlightError) -> Error {
    match e {
        FlightError::ExternalError(inner) => match inner.downcast::<Error>() {
            Ok(e) => *e,
            Err(other) => Error::internal(format!("cannot decode the stream: {other}")),
        },
        FlightError::Tonic(status) => from_status(&status, Transport::Established),
        other => Error::internal(format!("cannot decode the stream: {other}")),
    }
}

#[cfg(test)]
mod prop_tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Decimal128Array, DictionaryArray, Int64Array, StringArray};
    use arrow::datatypes::Int32Type;
    use arrow::ipc::CompressionType;
    use arrow::ipc::writer::IpcWriteOptions;
    use arrow_flight::encode::FlightDataEncoderBuilder;
    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;
    use crate::decode::guard::schema;

    const LIMITS: Limits = Limits {
        max_message_size: 1 << 20,
        max_decoded_size: 1 << 20,
        max_batch_rows: 1 << 20,
    };

    /// The messages of a small valid stream: a schema, dictionaries, batches, compressed
    /// with `codec` when given.
    fn valid(codec: Option<CompressionType>) -> Vec<FlightData> {
        let dictionary: DictionaryArray<Int32Type> = vec!["a", "b", "a", "c"].into_iter().collect();
        let batch = RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(Int64Array::from(vec![1_i64, 2, 3, 4])) as ArrayRef,
            ),
            (
                "name",
                Arc::new(StringArray::from(vec![
                    Some("x"),
                    None,
                    Some("zz"),
                    Some(""),
                ])) as ArrayRef,
            ),
            ("tag", Arc::new(dictionary) as ArrayRef),
            (
                "d",
                Arc::new(
                    Decimal128Array::from(vec![1_i128, -20, 300, 0])
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ) as ArrayRef,
            ),
        ])
        .unwrap();
        let options = IpcWriteOptions::default()
            .try_with_compression(codec)
            .unwrap();
        let encoded = FlightDataEncoderBuilder::new()
            .with_options(options)
            .build(futures::stream::iter([Ok(batch.clone()), Ok(batch)]));
        futures::executor::block_on(encoded.try_collect::<Vec<_>>()).unwrap()
    }

    /// Decodes messages through the guard and the decoder to the end or the first error.
    fn decode_all(messages: Vec<FlightData>) -> Result<usize> {
        let mut decoder = guarded(futures::stream::iter(messages.into_iter().map(Ok)), LIMITS);
        futures::executor::block_on(async {
            let mut items = 0;
            while next_item(&mut decoder, None).await?.is_some() {
                items += 1;
            }
            Ok(items)
        })
    }

    #[derive(Debug, Clone)]
    enum Mutation {
        /// Flip the bits of one byte.
        Flip(usize, u8),
        /// Write a 32-bit value (lengths, offsets, counts).
        Word(usize, i32),
        /// Write a 64-bit value (buffer lengths and offsets, uncompressed lengths).
        Long(usize, i64),
        /// Cut the bytes after this many.
        Cut(usize),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            (any::<usize>(), 1_u8..).prop_map(|(at, bits)| Mutation::Flip(at, bits)),
            (any::<usize>(), any::<i32>()).prop_map(|(at, v)| Mutation::Word(at, v)),
            (
                any::<usize>(),
                prop_oneof![any::<i64>(), Just(1 << 50), Just(-1), Just(i64::MAX)]
            )
                .prop_map(|(at, v)| Mutation::Long(at, v)),
            any::<usize>().prop_map(Mutation::Cut),
        ]
    }

    fn apply(bytes: &Bytes, mutation: &Mutation) -> Bytes {
        let mut b = bytes.to_vec();
        if b.is_empty() {
            return bytes.clone();
        }
        match *mutation {
            Mutation::Flip(at, bits) => {
                let at = at % b.len();
                b[at] ^= bits;
            }
            Mutation::Word(at, v) => {
                let at = at % b.len();
                let end = (at + 4).min(b.len());
                b[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
            }
            Mutation::Long(at, v) => {
                let at = at % b.len();
                let end = (at + 8).min(b.len());
                b[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
            }
            Mutation::Cut(at) => b.truncate(at % b.len()),
        }
        Bytes::from(b)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// Valid streams mutated anywhere (headers or bodies, any message, any codec) are
        /// decoded or refused: never a panic that escapes, never an abort, never an
        /// allocation past the limits (one would abort this process).
        #[test]
        fn mutated_messages_never_escape_the_guard(
            codec in prop_oneof![Just(None), Just(Some(CompressionType::LZ4_FRAME)), Just(Some(CompressionType::ZSTD))],
            which in any::<usize>(),
            body in any::<bool>(),
            mutations in proptest::collection::vec(mutation(), 1..4),
        ) {
            let mut messages = valid(codec);
            let i = which % messages.len();
            for m in &mutations {
                if body {
                    messages[i].data_body = apply(&messages[i].data_body, m);
                } else {
                    messages[i].data_header = apply(&messages[i].data_header, m);
                }
            }
            // Refused or decoded, and never by a decoder's assertion (caught, but each one
            // a check the guard lacks).
            if let Err(e) = decode_all(messages) {
                prop_assert!(!e.to_string().contains(DECODER_PANICKED), "{e}");
            }
        }

        /// The same for schemas sent on their own (`FlightInfo`, `GetSchema`, prepared
        /// statements, `GetTables`).
        #[test]
        fn mutated_schemas_never_escape_the_guard(
            mutations in proptest::collection::vec(mutation(), 1..4),
        ) {
            let batch_schema = valid(None)[0].clone();
            let mut bytes = {
                let mut out = vec![0xff, 0xff, 0xff, 0xff];
                let header = &batch_schema.data_header;
                out.extend_from_slice(&(header.len() as i32).to_le_bytes());
                out.extend_from_slice(header);
                Bytes::from(out)
            };
            for m in &mutations {
                bytes = apply(&bytes, m);
            }
            let _ = schema(&bytes, "schema");
        }
    }

    /// What the stream says when a decoder panicked.
    const DECODER_PANICKED: &str = "the IPC decoder failed";

    /// A record batch message's header: `length` rows, the nodes (length, null count) and
    /// buffers (offset, length) given, over a body of `body` bytes.
    fn batch_header(
        length: i64,
        nodes: &[(i64, i64)],
        buffers: &[(i64, i64)],
        variadic: &[i64],
        body: i64,
    ) -> Bytes {
        let mut fbb = flatbuffers::FlatBufferBuilder::new();
        let nodes: Vec<_> = nodes
            .iter()
            .map(|&(l, n)| arrow::ipc::FieldNode::new(l, n))
            .collect();
        let buffers: Vec<_> = buffers
            .iter()
            .map(|&(o, l)| arrow::ipc::Buffer::new(o, l))
            .collect();
        let nodes = fbb.create_vector(&nodes);
        let buffers = fbb.create_vector(&buffers);
        let variadic = (!variadic.is_empty()).then(|| fbb.create_vector(variadic));
        let mut batch = arrow::ipc::RecordBatchBuilder::new(&mut fbb);
        batch.add_length(length);
        batch.add_nodes(nodes);
        batch.add_buffers(buffers);
        if let Some(variadic) = variadic {
            batch.add_variadicBufferCounts(variadic);
        }
        let batch = batch.finish();
        let mut message = arrow::ipc::MessageBuilder::new(&mut fbb);
        message.add_version(arrow::ipc::MetadataVersion::V5);
        message.add_header_type(arrow::ipc::MessageHeader::RecordBatch);
        message.add_header(batch.as_union_value());
        message.add_bodyLength(body);
        let message = message.finish();
        fbb.finish(message, None);
        Bytes::copy_from_slice(fbb.finished_data())
    }

    /// Decodes a stream of `schema` and one hand-made batch message.
    fn decode_hand_made(schema: &arrow::datatypes::Schema, header: Bytes, body: Vec<u8>) -> String {
        let schema = FlightData::from(arrow_flight::SchemaAsIpc::new(
            schema,
            &IpcWriteOptions::default(),
        ));
        let batch = FlightData::new()
            .with_data_header(header)
            .with_data_body(body);
        let error = decode_all(vec![schema, batch]).unwrap_err().to_string();
        assert!(!error.contains(DECODER_PANICKED), "{error}");
        error
    }

    #[test]
    fn layouts_that_arrow_asserts_on_are_refused_by_the_guard() {
        use arrow::datatypes::{DataType, Field, Schema, UnionFields};
        let int32 = Schema::new(vec![Field::new("n", DataType::Int32, true)]);
        // A validity bitmap of 1 byte for 100 values, 5 of them null.
        let e = decode_hand_made(
            &int32,
            batch_header(100, &[(100, 5)], &[(0, 1), (8, 400)], &[], 408),
            vec![0; 408],
        );
        assert!(e.contains("validity bitmap") && e.contains("\"n\""), "{e}");
        // 13 bytes of 4-byte values.
        let e = decode_hand_made(
            &int32,
            batch_header(3, &[(3, 0)], &[(0, 0), (0, 13)], &[], 16),
            vec![0; 16],
        );
        assert!(e.contains("whole number of 4-byte values"), "{e}");
        // A variadic count with no view column to take it.
        let e = decode_hand_made(
            &int32,
            batch_header(1, &[(1, 0)], &[(0, 0), (0, 4)], &[2], 8),
            vec![0; 8],
        );
        assert!(e.contains("variadic"), "{e}");
        // A dense union of 10 values whose type ids hold 1 byte, then one whose offsets are
        // not aligned.
        let union = Schema::new(vec![Field::new(
            "u",
            DataType::Union(
                UnionFields::try_new([0], [Field::new("i", DataType::Int32, true)]).unwrap(),
                arrow::datatypes::UnionMode::Dense,
            ),
            false,
        )]);
        let e = decode_hand_made(
            &union,
            batch_header(
                10,
                &[(10, 0), (1, 0)],
                &[(0, 1), (8, 40), (48, 0), (48, 4)],
                &[],
                56,
            ),
            vec![0; 56],
        );
        assert!(e.contains("type ids hold 1 bytes where 10"), "{e}");
        let e = decode_hand_made(
            &union,
            batch_header(
                1,
                &[(1, 0), (1, 0)],
                &[(0, 1), (10, 4), (16, 0), (16, 4)],
                &[],
                24,
            ),
            vec![0; 24],
        );
        assert!(e.contains("not aligned"), "{e}");
        // A node claiming more nulls than values.
        let e = decode_hand_made(
            &int32,
            batch_header(1, &[(1, 2)], &[(0, 1), (8, 4)], &[], 16),
            vec![0; 16],
        );
        assert!(e.contains("1 values of which 2 are null"), "{e}");
    }

    #[test]
    fn dictionaries_grown_by_deltas_stay_under_the_decoded_limit() {
        // The same dictionary sent again and again as a delta: each message is small, the
        // dictionary they add up to is not.
        let values: Vec<String> = (0..100).map(|i| format!("{i:0>1000}")).collect();
        let dictionary: DictionaryArray<Int32Type> = values.iter().map(|v| v.as_str()).collect();
        let batch =
            RecordBatch::try_from_iter([("tag", Arc::new(dictionary) as ArrayRef)]).unwrap();
        let encoded = FlightDataEncoderBuilder::new()
            .with_dictionary_handling(arrow_flight::encode::DictionaryHandling::Resend)
            .build(futures::stream::iter([Ok(batch)]));
        let messages = futures::executor::block_on(encoded.try_collect::<Vec<_>>()).unwrap();
        // schema, dictionary, batch
        assert_eq!(messages.len(), 3);
        let delta = {
            let header = &messages[1].data_header;
            let message = arrow::ipc::root_as_message(header).unwrap();
            let dictionary = message.header_as_dictionary_batch().unwrap();
            assert!(!dictionary.isDelta());
            // The flag is the last scalar written: rebuild the header with it set.
            let data = dictionary.data().unwrap();
            let mut fbb = flatbuffers::FlatBufferBuilder::new();
            let nodes: Vec<_> = data.nodes().unwrap().iter().copied().collect();
            let buffers: Vec<_> = data.buffers().unwrap().iter().copied().collect();
            let nodes = fbb.create_vector(&nodes);
            let buffers = fbb.create_vector(&buffers);
            let mut inner = arrow::ipc::RecordBatchBuilder::new(&mut fbb);
            inner.add_length(data.length());
            inner.add_nodes(nodes);
            inner.add_buffers(buffers);
            let inner = inner.finish();
            let mut outer = arrow::ipc::DictionaryBatchBuilder::new(&mut fbb);
            outer.add_id(dictionary.id());
            outer.add_data(inner);
            outer.add_isDelta(true);
            let outer = outer.finish();
            let mut m = arrow::ipc::MessageBuilder::new(&mut fbb);
            m.add_version(message.version());
            m.add_header_type(arrow::ipc::MessageHeader::DictionaryBatch);
            m.add_header(outer.as_union_value());
            m.add_bodyLength(message.bodyLength());
            let m = m.finish();
            fbb.finish(m, None);
            FlightData::new()
                .with_data_header(Bytes::copy_from_slice(fbb.finished_data()))
                .with_data_body(messages[1].data_body.clone())
        };
        let mut stream = messages[..2].to_vec();
        // 100 KB each: the 1 MiB limit is passed on the eleventh.
        stream.extend(std::iter::repeat_n(delta, 20));
        let error = decode_all(stream).unwrap_err().to_string();
        assert!(
            error.contains("grown by delta batches") && error.contains("max_decoded_size"),
            "{error}"
        );
    }

    #[test]
    fn valid_streams_pass_with_each_codec() {
        for codec in [
            None,
            Some(CompressionType::LZ4_FRAME),
            Some(CompressionType::ZSTD),
        ] {
            // A schema and two batches (and the dictionary, sent once).
            assert_eq!(decode_all(valid(codec)).unwrap(), 3, "{codec:?}");
        }
    }
}

//! A hostile Flight SQL server: each query names a way a server can lie, and the server lies
//! that way. For tests and the bench that prove a client survives what a server sends.
//!
//! `execute(case)` answers a `FlightInfo` whose endpoint's ticket is the case; `DoGet` of
//! the ticket sends the hostile stream. Prepared statements, `GetSchema`, `GetTables` and
//! actions lie the same way. Nothing here runs SQL.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use arrow::array::{ArrayRef, BinaryArray, Decimal128Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ipc::writer::IpcWriteOptions;
use arrow::ipc::{
    BodyCompressionBuilder, BodyCompressionMethod, CompressionType, FieldNode, MessageBuilder,
    MessageHeader, MetadataVersion, RecordBatchBuilder,
};
use arrow::record_batch::RecordBatch;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::sql::{
    ActionCreatePreparedStatementResult, Any, CommandGetTables, CommandPreparedStatementQuery,
    CommandStatementQuery, ProstMessageExt,
};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo,
    HandshakeRequest, HandshakeResponse, IpcMessage, Location, PollInfo, PutResult, SchemaAsIpc,
    SchemaResult, Ticket,
};
use bytes::Bytes;
use futures::stream::{self, StreamExt};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status, Streaming};

use crate::identity::BoxError;

/// The ways the hostile server lies, by the SQL (or ticket) that asks for each.
pub mod cases {
    /// A compressed (LZ4) buffer whose length prefix claims 2^50 bytes uncompressed.
    pub const LENGTH_LIE: &str = "length_lie";
    /// An LZ4 frame of about 4 MiB that expands to 1 GiB, declared as 1 GiB.
    pub const LZ4_BOMB: &str = "lz4_bomb";
    /// The same frame declared as 1 KiB.
    pub const LZ4_BOMB_LIE: &str = "lz4_bomb_lie";
    /// A ZSTD frame of 32 KiB that expands to 1 GiB, declared as 1 GiB.
    pub const ZSTD_BOMB: &str = "zstd_bomb";
    /// The same frame declared as 1 KiB.
    pub const ZSTD_BOMB_LIE: &str = "zstd_bomb_lie";
    /// A `FlightInfo` whose schema the IPC decoder panics on.
    pub const BAD_SCHEMA_FLIGHT_INFO: &str = "bad_schema_flight_info";
    /// A prepared statement whose result (dataset) schema is malformed.
    pub const BAD_SCHEMA_DATASET: &str = "bad_schema_dataset";
    /// A prepared statement whose parameter schema is malformed.
    pub const BAD_SCHEMA_PARAMETERS: &str = "bad_schema_parameters";
    /// A prepared statement whose `GetSchema` answer is malformed.
    pub const BAD_SCHEMA_GET_SCHEMA: &str = "bad_schema_get_schema";
    /// A stream whose second batch has another schema.
    pub const SCHEMA_CHANGE: &str = "schema_change";
    /// A decimal column whose scale exceeds its precision.
    pub const DECIMAL_SCALE: &str = "decimal_scale";
    /// A decimal value with more digits than its column's precision.
    pub const DECIMAL_DIGITS: &str = "decimal_digits";
    /// A prepared statement whose `CreatePreparedStatement` answer never ends.
    pub const ENDLESS_ACTION: &str = "endless_action";
    /// An endpoint at an `http://` location answering an error with an endless body.
    pub const ENDLESS_HTTP_ERROR: &str = "endless_http_error";
    /// An endpoint at an `http://` location answering an IPC stream whose one message
    /// claims a 2 GiB body.
    pub const HTTP_LENGTH_LIE: &str = "http_length_lie";
    /// An endpoint at an `http://` location answering an LZ4 bomb declared as 1 KiB.
    pub const HTTP_LZ4_BOMB: &str = "http_lz4_bomb";

    /// A batch of one `Null` column claiming 2^40 rows (a message of about 300 bytes).
    pub const ROWS_NULL: &str = "rows_null";
    /// A batch of one struct column without fields claiming 2^40 rows.
    pub const ROWS_EMPTY_STRUCT: &str = "rows_empty_struct";
    /// A batch of one `FixedSizeBinary(0)` column claiming 2^40 rows.
    pub const ROWS_FIXED_SIZE_BINARY_0: &str = "rows_fixed_size_binary_0";
    /// A batch of one `FixedSizeList(Int8, 0)` column claiming 2^40 rows.
    pub const ROWS_FIXED_SIZE_LIST_0: &str = "rows_fixed_size_list_0";
    /// A batch of one run-end encoded column of one run 2^40 rows long.
    pub const ROWS_RUN_END: &str = "rows_run_end";
    /// A batch without columns claiming 2^40 rows.
    pub const ROWS_NO_COLUMNS: &str = "rows_no_columns";
    /// A batch of one row whose list holds 2^31 - 1 `Null` values.
    pub const ROWS_NESTED_NULL: &str = "rows_nested_null";
    /// A list of decimals, one with more digits than its precision.
    pub const DECIMAL_DIGITS_LIST: &str = "decimal_digits_list";
    /// A dictionary of decimals, one with more digits than its precision.
    pub const DECIMAL_DIGITS_DICTIONARY: &str = "decimal_digits_dictionary";
    /// A timestamp column whose time zone holds a NUL byte.
    pub const NUL_TIME_ZONE: &str = "nul_time_zone";
    /// A column whose name holds a NUL byte.
    pub const NUL_IN_NAME: &str = "nul_in_name";
    /// An error whose message holds a NUL byte.
    pub const NUL_IN_ERROR: &str = "nul_in_error";
    /// An endpoint at an `http://` location on the server's host answering `302` to another
    /// host (`elsewhere.invalid`, never reached: the client must refuse before asking).
    pub const REDIRECT_ELSEWHERE: &str = "redirect_elsewhere";
    /// An endpoint at an `http://` location answering `302` to another path on the same
    /// host, which answers [`INT8_OK`]'s stream.
    pub const REDIRECT_HOME: &str = "redirect_home";
    /// 1,500 endpoints, each at a location URI of its own (`grpc://127.0.0.1:PORT/?n=I`) on
    /// this server, each answering [`INT8_OK`] (4,500 rows in all).
    pub const MANY_LOCATIONS: &str = "many_locations";

    /// No lie: one `Int8` column of three rows (the result of the prepared statements).
    pub const INT8_OK: &str = "int8_ok";

    /// The batches that claim rows their bytes do not pay for.
    pub const ROW_BOMBS: [&str; 7] = [
        ROWS_NULL,
        ROWS_EMPTY_STRUCT,
        ROWS_FIXED_SIZE_BINARY_0,
        ROWS_FIXED_SIZE_LIST_0,
        ROWS_RUN_END,
        ROWS_NO_COLUMNS,
        ROWS_NESTED_NULL,
    ];

    /// Every case read through `DoGet` (as a query), for loops.
    pub const STREAMS: [&str; 23] = [
        NUL_IN_NAME,
        ROWS_NULL,
        ROWS_EMPTY_STRUCT,
        ROWS_FIXED_SIZE_BINARY_0,
        ROWS_FIXED_SIZE_LIST_0,
        ROWS_RUN_END,
        ROWS_NO_COLUMNS,
        ROWS_NESTED_NULL,
        DECIMAL_DIGITS_LIST,
        DECIMAL_DIGITS_DICTIONARY,
        NUL_TIME_ZONE,
        NUL_IN_ERROR,
        LENGTH_LIE,
        LZ4_BOMB,
        LZ4_BOMB_LIE,
        ZSTD_BOMB,
        ZSTD_BOMB_LIE,
        SCHEMA_CHANGE,
        DECIMAL_SCALE,
        DECIMAL_DIGITS,
        ENDLESS_HTTP_ERROR,
        HTTP_LENGTH_LIE,
        HTTP_LZ4_BOMB,
    ];
}

/// One GiB: what the bombs expand to.
const GIB: usize = 1 << 30;

/// A running hostile server (and its HTTP side for `http://` locations); stops when dropped.
#[derive(Debug)]
pub struct HostileServer {
    addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl HostileServer {
    /// Starts the server on 127.0.0.1 (a free port).
    ///
    /// # Errors
    /// When a port cannot be bound.
    pub async fn start() -> Result<HostileServer, BoxError> {
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let http_base = format!("http://{}", http.local_addr()?);
        let http_task = tokio::spawn(serve_http(http));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let service = Hostile {
            http_base: Arc::new(http_base),
            grpc_addr: addr,
        };
        let grpc_task = tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(
                    FlightServiceServer::new(service)
                        .max_decoding_message_size(64 << 20)
                        .max_encoding_message_size(usize::MAX),
                )
                .serve_with_incoming(TcpListenerStream::new(listener))
                .await;
        });
        Ok(HostileServer {
            addr,
            tasks: vec![http_task, grpc_task],
        })
    }

    /// The connection URL (plaintext, on 127.0.0.1).
    pub fn url(&self) -> String {
        format!("grpc://{}", self.addr)
    }
}

#[derive(Clone)]
struct Hostile {
    http_base: Arc<String>,
    grpc_addr: SocketAddr,
}

type Stream<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Bytes that decode as a flatbuffer `Message` holding a schema with an `Int` of bit width 7,
/// which Arrow's schema decoder panics on, encapsulated as IPC schemas are sent.
pub fn malformed_schema() -> Bytes {
    use arrow::ipc::{FieldBuilder, IntBuilder, SchemaBuilder, Type};
    let mut fbb = flatbuffers::FlatBufferBuilder::new();
    let name = fbb.create_string("x");
    let int = {
        let mut b = IntBuilder::new(&mut fbb);
        b.add_bitWidth(7);
        b.add_is_signed(true);
        b.finish()
    };
    let children = fbb.create_vector::<flatbuffers::WIPOffset<arrow::ipc::Field>>(&[]);
    let field = {
        let mut b = FieldBuilder::new(&mut fbb);
        b.add_name(name);
        b.add_nullable(true);
        b.add_type_type(Type::Int);
        b.add_type_(int.as_union_value());
        b.add_children(children);
        b.finish()
    };
    let fields = fbb.create_vector(&[field]);
    let schema = {
        let mut b = SchemaBuilder::new(&mut fbb);
        b.add_fields(fields);
        b.finish()
    };
    let message = {
        let mut b = MessageBuilder::new(&mut fbb);
        b.add_version(MetadataVersion::V5);
        b.add_header_type(MessageHeader::Schema);
        b.add_header(schema.as_union_value());
        b.add_bodyLength(0);
        b.finish()
    };
    fbb.finish(message, None);
    encapsulate(fbb.finished_data())
}

/// An IPC message as `FlightInfo.schema` and friends carry it: continuation, length, message
/// padded to 8 bytes.
fn encapsulate(message: &[u8]) -> Bytes {
    let padded = message.len().div_ceil(8) * 8;
    let mut out = Vec::with_capacity(8 + padded);
    out.extend_from_slice(&[0xff; 4]);
    out.extend_from_slice(&(padded as i32).to_le_bytes());
    out.extend_from_slice(message);
    out.resize(8 + padded, 0);
    Bytes::from(out)
}

/// The header of a record batch message: `rows` rows, these field nodes and buffers, the
/// body compressed with `codec` when given, and the body length it declares.
fn batch_header(
    rows: i64,
    nodes: &[FieldNode],
    buffers: &[arrow::ipc::Buffer],
    codec: Option<CompressionType>,
    body_length: i64,
) -> Bytes {
    let mut fbb = flatbuffers::FlatBufferBuilder::new();
    let nodes = fbb.create_vector(nodes);
    let buffers = fbb.create_vector(buffers);
    let compression = codec.map(|codec| {
        let mut b = BodyCompressionBuilder::new(&mut fbb);
        b.add_codec(codec);
        b.add_method(BodyCompressionMethod::BUFFER);
        b.finish()
    });
    let batch = {
        let mut b = RecordBatchBuilder::new(&mut fbb);
        b.add_length(rows);
        b.add_nodes(nodes);
        b.add_buffers(buffers);
        if let Some(c) = compression {
            b.add_compression(c);
        }
        b.finish()
    };
    let message = {
        let mut b = MessageBuilder::new(&mut fbb);
        b.add_version(MetadataVersion::V5);
        b.add_header_type(MessageHeader::RecordBatch);
        b.add_header(batch.as_union_value());
        b.add_bodyLength(body_length);
        b.finish()
    };
    fbb.finish(message, None);
    Bytes::copy_from_slice(fbb.finished_data())
}

/// A record batch message of one non-null `Int8` column of `rows` rows, whose values buffer
/// is `values` (compressed with `codec` when given).
fn int8_batch(rows: i64, values: &[u8], codec: Option<CompressionType>) -> FlightData {
    let buffers = [
        arrow::ipc::Buffer::new(0, 0),
        arrow::ipc::Buffer::new(0, values.len() as i64),
    ];
    FlightData {
        data_header: batch_header(
            rows,
            &[FieldNode::new(rows, 0)],
            &buffers,
            codec,
            values.len() as i64,
        ),
        data_body: Bytes::copy_from_slice(values),
        ..FlightData::default()
    }
}

fn schema_message(schema: &Schema) -> FlightData {
    SchemaAsIpc::new(schema, &IpcWriteOptions::default()).into()
}

fn int8_schema() -> Schema {
    Schema::new(vec![Field::new("x", DataType::Int8, false)])
}

/// A compressed buffer: the 8-byte uncompressed length, then the frame.
fn compressed(declared: usize, frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + frame.len());
    out.extend_from_slice(&(declared as i64).to_le_bytes());
    out.extend_from_slice(frame);
    out
}

/// An LZ4 frame expanding to `blocks` × 4 MiB of zeros: one compressed 4 MiB block, repeated
/// (blocks are independent).
pub fn lz4_bomb(blocks: usize) -> Vec<u8> {
    use std::io::Write;
    let info = lz4_flex::frame::FrameInfo::new()
        .block_size(lz4_flex::frame::BlockSize::Max4MB)
        .block_mode(lz4_flex::frame::BlockMode::Independent);
    let mut encoder = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
    let zeros = vec![0_u8; 4 << 20];
    let _ = encoder.write_all(&zeros);
    let one = encoder.finish().unwrap_or_default();
    // Magic (4), FLG, BD, header checksum: 7 bytes; then blocks; then a 4-byte end mark.
    let header = &one[..7];
    let block = &one[7..one.len() - 4];
    let mut out = header.to_vec();
    for _ in 0..blocks {
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}

/// A ZSTD frame expanding to `bytes` zeros through RLE blocks (4 bytes per 128 KiB).
pub fn zstd_bomb(bytes: usize) -> Vec<u8> {
    const BLOCK: usize = 128 << 10;
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd];
    // Frame header descriptor: no content size, no checksum, no dictionary; a window
    // descriptor of 128 KiB follows.
    out.push(0x00);
    out.push(7 << 3);
    let blocks = bytes.div_ceil(BLOCK);
    for i in 0..blocks {
        let last = u32::from(i + 1 == blocks);
        let header = last | (1 << 1) | ((BLOCK as u32) << 3);
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        out.push(0);
    }
    out
}

/// The messages of each stream case.
fn stream_of(case: &str) -> Result<Vec<FlightData>, Status> {
    let schema = schema_message(&int8_schema());
    let lz4 = || lz4_bomb(GIB / (4 << 20));
    Ok(match case {
        cases::LENGTH_LIE => {
            let frame = lz4_bomb(0);
            vec![
                schema,
                int8_batch(
                    1 << 20,
                    &compressed(1 << 50, &frame),
                    Some(CompressionType::LZ4_FRAME),
                ),
            ]
        }
        cases::LZ4_BOMB => vec![
            schema,
            int8_batch(
                GIB as i64,
                &compressed(GIB, &lz4()),
                Some(CompressionType::LZ4_FRAME),
            ),
        ],
        cases::LZ4_BOMB_LIE => vec![
            schema,
            int8_batch(
                1024,
                &compressed(1024, &lz4()),
                Some(CompressionType::LZ4_FRAME),
            ),
        ],
        cases::ZSTD_BOMB => vec![
            schema,
            int8_batch(
                GIB as i64,
                &compressed(GIB, &zstd_bomb(GIB)),
                Some(CompressionType::ZSTD),
            ),
        ],
        cases::ZSTD_BOMB_LIE => vec![
            schema,
            int8_batch(
                1024,
                &compressed(1024, &zstd_bomb(GIB)),
                Some(CompressionType::ZSTD),
            ),
        ],
        cases::SCHEMA_CHANGE => {
            let a = RecordBatch::try_from_iter([(
                "id",
                Arc::new(Int64Array::from(vec![1_i64, 2])) as ArrayRef,
            )])
            .map_err(internal)?;
            let b = RecordBatch::try_from_iter([(
                "name",
                Arc::new(StringArray::from(vec!["x"])) as ArrayRef,
            )])
            .map_err(internal)?;
            let mut out = encode(a)?;
            out.extend(encode(b)?);
            out
        }
        cases::DECIMAL_SCALE => vec![schema_message(&Schema::new(vec![Field::new(
            "d",
            DataType::Decimal128(2, 10),
            true,
        )]))],
        cases::DECIMAL_DIGITS => {
            let values = Decimal128Array::from(vec![123_456_i128])
                .with_precision_and_scale(3, 2)
                .map_err(internal)?;
            encode(
                RecordBatch::try_from_iter([("d", Arc::new(values) as ArrayRef)])
                    .map_err(internal)?,
            )?
        }
        cases::ROWS_NULL
        | cases::ROWS_EMPTY_STRUCT
        | cases::ROWS_FIXED_SIZE_BINARY_0
        | cases::ROWS_FIXED_SIZE_LIST_0
        | cases::ROWS_RUN_END
        | cases::ROWS_NO_COLUMNS
        | cases::ROWS_NESTED_NULL => encode(row_bomb(case).map_err(internal)?)?,
        cases::DECIMAL_DIGITS_LIST | cases::DECIMAL_DIGITS_DICTIONARY => {
            encode(nested_decimal(case).map_err(internal)?)?
        }
        cases::NUL_TIME_ZONE => {
            let values = arrow::array::TimestampSecondArray::from(vec![0_i64])
                .with_timezone("UTC\0; rm -rf /");
            encode(
                RecordBatch::try_from_iter([("t", Arc::new(values) as ArrayRef)])
                    .map_err(internal)?,
            )?
        }
        cases::NUL_IN_NAME => encode(
            RecordBatch::try_from_iter([(
                "x\0y",
                Arc::new(Int64Array::from(vec![1_i64])) as ArrayRef,
            )])
            .map_err(internal)?,
        )?,
        cases::NUL_IN_ERROR => {
            return Err(Status::invalid_argument(
                "the server says no\0 and this part hides after a NUL",
            ));
        }
        cases::INT8_OK => vec![schema, int8_batch(3, &[1, 2, 3], None)],
        other => return Err(Status::not_found(format!("no such case {other:?}"))),
    })
}

use self::cases::*;

/// The rows a row bomb claims.
const BOMB_ROWS: usize = 1 << 40;

/// A batch claiming [`BOMB_ROWS`] rows (or, nested, 2^31 - 1 values) that its bytes do not pay
/// for; built in memory without allocating for them (these types hold nothing per value).
fn row_bomb(case: &str) -> Result<RecordBatch, arrow::error::ArrowError> {
    use arrow::array::{
        ArrayData, Int8Array, Int64Array, ListArray, NullArray, RunArray, StructArray, make_array,
    };
    use arrow::buffer::{Buffer, OffsetBuffer};
    use arrow::datatypes::{Fields, Int64Type};
    use arrow::record_batch::RecordBatchOptions;
    let column: ArrayRef = match case {
        ROWS_NULL => Arc::new(NullArray::new(BOMB_ROWS)),
        ROWS_EMPTY_STRUCT => Arc::new(StructArray::new_empty_fields(BOMB_ROWS, None)),
        ROWS_FIXED_SIZE_BINARY_0 => make_array(
            ArrayData::builder(DataType::FixedSizeBinary(0))
                .len(BOMB_ROWS)
                .add_buffer(Buffer::from(Vec::<u8>::new()))
                .build()?,
        ),
        ROWS_FIXED_SIZE_LIST_0 => {
            let child = Arc::new(Field::new("item", DataType::Int8, true));
            make_array(
                ArrayData::builder(DataType::FixedSizeList(child, 0))
                    .len(BOMB_ROWS)
                    .add_child_data(Int8Array::from(Vec::<i8>::new()).into())
                    .build()?,
            )
        }
        ROWS_RUN_END => Arc::new(RunArray::<Int64Type>::try_new(
            &Int64Array::from(vec![BOMB_ROWS as i64]),
            &Int8Array::from(vec![1_i8]),
        )?),
        ROWS_NESTED_NULL => {
            let values = i32::MAX as usize;
            Arc::new(ListArray::try_new(
                Arc::new(Field::new("item", DataType::Null, true)),
                OffsetBuffer::from_lengths([values]),
                Arc::new(NullArray::new(values)),
                None,
            )?)
        }
        _ => {
            return RecordBatch::try_new_with_options(
                Arc::new(Schema::new(Fields::empty())),
                vec![],
                &RecordBatchOptions::new().with_row_count(Some(BOMB_ROWS)),
            );
        }
    };
    RecordBatch::try_from_iter([("x", column)])
}

/// A decimal with more digits than its precision inside a list or a dictionary.
fn nested_decimal(case: &str) -> Result<RecordBatch, arrow::error::ArrowError> {
    use arrow::array::{DictionaryArray, Int32Array, ListArray};
    use arrow::buffer::OffsetBuffer;
    let values =
        Decimal128Array::from(vec![12_345_678_i128, 100]).with_precision_and_scale(5, 2)?;
    let column: ArrayRef = if case == DECIMAL_DIGITS_LIST {
        Arc::new(ListArray::try_new(
            Arc::new(Field::new("item", DataType::Decimal128(5, 2), true)),
            OffsetBuffer::from_lengths([2]),
            Arc::new(values),
            None,
        )?)
    } else {
        Arc::new(DictionaryArray::try_new(
            Int32Array::from(vec![0, 1, 0]),
            Arc::new(values),
        )?)
    };
    RecordBatch::try_from_iter([("d", column)])
}

/// The schema message, the dictionaries and the batch's messages.
fn encode(batch: RecordBatch) -> Result<Vec<FlightData>, Status> {
    use arrow_flight::encode::{DictionaryHandling, FlightDataEncoderBuilder};
    use futures::{FutureExt, TryStreamExt};
    let encoded = FlightDataEncoderBuilder::new()
        .with_dictionary_handling(DictionaryHandling::Resend)
        .build(stream::iter([Ok(batch)]));
    // Encoding in memory never waits.
    encoded
        .try_collect::<Vec<_>>()
        .now_or_never()
        .ok_or_else(|| Status::internal("the encoder waited"))?
        .map_err(internal)
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

/// What the SQL of a `GetFlightInfo` or a prepared statement names.
fn case_of(command: &[u8]) -> Result<String, Status> {
    let any = Any::decode(command).map_err(internal)?;
    if let Some(q) = any.unpack::<CommandStatementQuery>().map_err(internal)? {
        return Ok(q.query);
    }
    if let Some(q) = any
        .unpack::<CommandPreparedStatementQuery>()
        .map_err(internal)?
    {
        return Ok(String::from_utf8_lossy(&q.prepared_statement_handle).into_owned());
    }
    // Catalogs answer a row bomb (`\l`, completion, `get_objects`).
    if any
        .unpack::<arrow_flight::sql::CommandGetCatalogs>()
        .map_err(internal)?
        .is_some()
    {
        return Ok(ROWS_NULL.to_owned());
    }
    if any
        .unpack::<CommandGetTables>()
        .map_err(internal)?
        .is_some()
    {
        return Ok("tables".to_owned());
    }
    Err(Status::unimplemented(format!(
        "{} is not served",
        any.type_url
    )))
}

/// The answer to `GetTables` (with schemas): one table whose schema is malformed.
fn tables_answer() -> Result<Vec<FlightData>, Status> {
    let batch = RecordBatch::try_from_iter([
        (
            "catalog_name",
            Arc::new(StringArray::from(vec![Some("c")])) as ArrayRef,
        ),
        (
            "db_schema_name",
            Arc::new(StringArray::from(vec![Some("s")])) as ArrayRef,
        ),
        (
            "table_name",
            Arc::new(StringArray::from(vec!["t"])) as ArrayRef,
        ),
        (
            "table_type",
            Arc::new(StringArray::from(vec!["TABLE"])) as ArrayRef,
        ),
        (
            "table_schema",
            Arc::new(BinaryArray::from(vec![malformed_schema().as_ref()])) as ArrayRef,
        ),
    ])
    .map_err(internal)?;
    encode(batch)
}

#[tonic::async_trait]
impl FlightService for Hostile {
    type HandshakeStream = Stream<HandshakeResponse>;
    type ListFlightsStream = Stream<FlightInfo>;
    type DoGetStream = Stream<FlightData>;
    type DoPutStream = Stream<PutResult>;
    type DoActionStream = Stream<arrow_flight::Result>;
    type ListActionsStream = Stream<ActionType>;
    type DoExchangeStream = Stream<FlightData>;

    async fn handshake(
        &self,
        _: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        Err(Status::unimplemented("handshake"))
    }

    async fn list_flights(
        &self,
        _: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        Err(Status::unimplemented("list_flights"))
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let case = case_of(&request.into_inner().cmd)?;
        let mut endpoint = FlightEndpoint::new().with_ticket(Ticket::new(case.clone()));
        let schema = match case.as_str() {
            BAD_SCHEMA_FLIGHT_INFO => malformed_schema(),
            MANY_LOCATIONS => {
                let IpcMessage(bytes) =
                    SchemaAsIpc::new(&int8_schema(), &IpcWriteOptions::default())
                        .try_into()
                        .map_err(internal)?;
                bytes
            }
            _ => Bytes::new(),
        };
        let mut endpoints = Vec::new();
        match case.as_str() {
            MANY_LOCATIONS => {
                endpoints = (0..1500)
                    .map(|n| FlightEndpoint {
                        ticket: Some(Ticket::new(INT8_OK)),
                        location: vec![Location {
                            uri: format!("grpc://{}/?n={n}", self.grpc_addr),
                        }],
                        ..FlightEndpoint::default()
                    })
                    .collect();
            }
            ENDLESS_HTTP_ERROR | HTTP_LENGTH_LIE | HTTP_LZ4_BOMB | REDIRECT_ELSEWHERE
            | REDIRECT_HOME => {
                endpoint = FlightEndpoint {
                    ticket: None,
                    location: vec![Location {
                        uri: format!("{}/{case}", self.http_base),
                    }],
                    ..FlightEndpoint::default()
                };
            }
            _ => {}
        }
        if endpoints.is_empty() {
            endpoints.push(endpoint);
        }
        Ok(Response::new(FlightInfo {
            schema,
            flight_descriptor: None,
            endpoint: endpoints,
            total_records: -1,
            total_bytes: -1,
            ordered: true,
            app_metadata: Bytes::new(),
        }))
    }

    async fn poll_flight_info(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        Err(Status::unimplemented("poll_flight_info"))
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        let case = case_of(&request.into_inner().cmd)?;
        let schema = match case.as_str() {
            BAD_SCHEMA_GET_SCHEMA => malformed_schema(),
            _ => {
                let IpcMessage(bytes) =
                    SchemaAsIpc::new(&int8_schema(), &IpcWriteOptions::default())
                        .try_into()
                        .map_err(internal)?;
                bytes
            }
        };
        Ok(Response::new(SchemaResult { schema }))
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        let case = String::from_utf8_lossy(&request.into_inner().ticket).into_owned();
        let messages = if case == "tables" {
            tables_answer()?
        } else {
            stream_of(&case)?
        };
        Ok(Response::new(
            stream::iter(messages.into_iter().map(Ok)).boxed(),
        ))
    }

    async fn do_put(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        Err(Status::unimplemented("do_put"))
    }

    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        let action = request.into_inner();
        match action.r#type.as_str() {
            "CreatePreparedStatement" => {
                let request = Any::decode(action.body)
                    .map_err(internal)?
                    .unpack::<arrow_flight::sql::ActionCreatePreparedStatementRequest>()
                    .map_err(internal)?
                    .ok_or_else(|| Status::invalid_argument("not a prepared statement request"))?;
                let case = request.query;
                if case == ENDLESS_ACTION {
                    let body = Bytes::from(vec![7_u8; 64 << 10]);
                    let endless = stream::repeat_with(move || {
                        Ok(arrow_flight::Result { body: body.clone() })
                    });
                    return Ok(Response::new(endless.boxed()));
                }
                let ok = || -> Result<Bytes, Status> {
                    let IpcMessage(bytes) =
                        SchemaAsIpc::new(&int8_schema(), &IpcWriteOptions::default())
                            .try_into()
                            .map_err(internal)?;
                    Ok(bytes)
                };
                let result = ActionCreatePreparedStatementResult {
                    prepared_statement_handle: Bytes::from(match case.as_str() {
                        BAD_SCHEMA_GET_SCHEMA => case.clone(),
                        _ => INT8_OK.to_owned(),
                    }),
                    dataset_schema: if case == BAD_SCHEMA_DATASET {
                        malformed_schema()
                    } else {
                        ok()?
                    },
                    parameter_schema: if case == BAD_SCHEMA_PARAMETERS {
                        malformed_schema()
                    } else {
                        Bytes::new()
                    },
                };
                let body = result.as_any().encode_to_vec().into();
                Ok(Response::new(
                    stream::iter([Ok(arrow_flight::Result { body })]).boxed(),
                ))
            }
            "ClosePreparedStatement" => Ok(Response::new(stream::empty().boxed())),
            other => Err(Status::invalid_argument(format!(
                "Unsupported action type: {other:?}"
            ))),
        }
    }

    async fn list_actions(
        &self,
        _: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        Err(Status::unimplemented("list_actions"))
    }

    async fn do_exchange(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented("do_exchange"))
    }
}

/// The bytes of an Arrow IPC stream (a `.arrows` file) telling the lie of a stream case, for
/// the readers of local files.
///
/// # Errors
/// For a case that is not a stream of messages (an error, an HTTP location).
pub fn ipc_stream(case: &str) -> Result<Vec<u8>, BoxError> {
    let mut out = Vec::new();
    for data in stream_of(case).map_err(|s| s.message().to_owned())? {
        out.extend(ipc_stream_message(&data));
    }
    out.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    Ok(out)
}

/// The HTTP side: `GET /<case>` answers the case's body.
async fn serve_http(listener: tokio::net::TcpListener) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut request = Vec::new();
            let mut buf = [0_u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
                if request.len() > 64 << 10 {
                    return;
                }
            }
            let text = String::from_utf8_lossy(&request);
            let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let _ = answer_http(&mut socket, path.trim_start_matches('/')).await;
        });
    }
}

async fn answer_http(socket: &mut tokio::net::TcpStream, case: &str) -> std::io::Result<()> {
    match case {
        ENDLESS_HTTP_ERROR => {
            socket
                .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n")
                .await?;
            let chunk = format!("{:x}\r\n{}\r\n", 64 << 10, "e".repeat(64 << 10));
            loop {
                socket.write_all(chunk.as_bytes()).await?;
            }
        }
        HTTP_LENGTH_LIE | HTTP_LZ4_BOMB => {
            let messages = if case == HTTP_LENGTH_LIE {
                let mut batch = int8_batch(3, &[1, 2, 3], None);
                // The header of the batch claims a 2 GiB body.
                batch = patch_body_length(batch, 2 << 30);
                vec![schema_message(&int8_schema()), batch]
            } else {
                let frame = lz4_bomb(GIB / (4 << 20));
                vec![
                    schema_message(&int8_schema()),
                    int8_batch(
                        1024,
                        &compressed(1024, &frame),
                        Some(CompressionType::LZ4_FRAME),
                    ),
                ]
            };
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.apache.arrow.stream\r\nconnection: close\r\n\r\n")
                .await?;
            for m in messages {
                socket.write_all(&ipc_stream_message(&m)).await?;
            }
            socket
                .write_all(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])
                .await?;
            socket.shutdown().await
        }
        REDIRECT_ELSEWHERE => {
            socket
                .write_all(b"HTTP/1.1 302 Found\r\nlocation: http://elsewhere.invalid/int8_ok\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await
        }
        REDIRECT_HOME => {
            socket
                .write_all(b"HTTP/1.1 302 Found\r\nlocation: /int8_ok\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await
        }
        INT8_OK => {
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.apache.arrow.stream\r\nconnection: close\r\n\r\n")
                .await?;
            let stream = ipc_stream(INT8_OK).map_err(std::io::Error::other)?;
            socket.write_all(&stream).await?;
            socket.shutdown().await
        }
        _ => {
            socket
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await
        }
    }
}

/// A message in the IPC stream format: continuation, length, padded header, body.
fn ipc_stream_message(data: &FlightData) -> Vec<u8> {
    let mut out = encapsulate(&data.data_header).to_vec();
    out.extend_from_slice(&data.data_body);
    out
}

/// The same batch message with another `bodyLength` in its header.
fn patch_body_length(data: FlightData, body_length: i64) -> FlightData {
    let Ok(message) = arrow::ipc::root_as_message(&data.data_header) else {
        return data;
    };
    let Some(batch) = message.header_as_record_batch() else {
        return data;
    };
    let nodes: Vec<FieldNode> = batch
        .nodes()
        .map(|n| n.iter().copied().collect())
        .unwrap_or_default();
    let buffers: Vec<arrow::ipc::Buffer> = batch
        .buffers()
        .map(|b| b.iter().copied().collect())
        .unwrap_or_default();
    let codec = batch.compression().map(|c| c.codec());
    FlightData {
        data_header: batch_header(batch.length(), &nodes, &buffers, codec, body_length),
        ..data
    }
}

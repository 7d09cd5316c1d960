//! The decode guard: every IPC message and every schema a server sends passes here before an
//! Arrow decoder reads it.
//!
//! Arrow's IPC decoders trust what they read: a buffer that lies outside its body panics, a
//! compressed buffer allocates whatever uncompressed length it claims (2^50 bytes aborts the
//! process, which no `catch_unwind` can stop), an LZ4 frame is decompressed to its end whatever
//! length it claimed, a few verifier-valid schemas panic, and array constructors assert on
//! buffers too short or of the wrong width for their arrays. The guard checks what can be
//! checked from the message and the stream's schema (the layout of each batch's nodes and
//! buffers is `layout.rs`'s walk), and still runs the decoders under `catch_unwind`.

use std::io::Read;

use arrow::array::RecordBatch;
use arrow::datatypes::{
    DataType, Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type, Schema,
    validate_decimal_precision_and_scale,
};
use arrow::ipc::{CompressionType, Message, MessageHeader};

use crate::config::Limits;
use crate::decode::layout;
use crate::transport::telemetry;
use arrow_flight::FlightData;
use dbapi::{Error, Result};

/// The length prefix of a compressed buffer that means "not compressed".
const NOT_COMPRESSED: i64 = -1;

/// The guard of one stream: checks each IPC message (a header and its body) before it is
/// decoded, knowing the stream's schema to check the layout of its batches.
#[derive(Debug)]
pub(crate) struct MessageGuard {
    limits: Limits,
    /// The columns the stream's batches encode (from its last schema message).
    schema: Option<Schema>,
    /// The decoded bytes each dictionary holds: delta batches add to it.
    dictionaries: std::collections::HashMap<i64, u64>,
    /// Rows and bytes of the messages checked, for the stream's telemetry.
    rows: u64,
    bytes: u64,
}

impl Drop for MessageGuard {
    fn drop(&mut self) {
        telemetry::received(self.rows, self.bytes);
    }
}

/// A message body copied to aligned memory (a union's offsets are read in place).
struct AlignedBody(arrow::buffer::Buffer);

impl AsRef<[u8]> for AlignedBody {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

impl MessageGuard {
    /// A guard for a new stream.
    pub(crate) fn new(limits: Limits) -> MessageGuard {
        MessageGuard {
            limits,
            schema: None,
            dictionaries: std::collections::HashMap::new(),
            rows: 0,
            bytes: 0,
        }
    }

    /// Checks one message: the header is a valid flatbuffer `Message`, the body as long as it
    /// says, every buffer inside the body, the decoded size of its buffers (the uncompressed
    /// lengths that compressed buffers declare, and for LZ4 the length they really expand to)
    /// and of each dictionary within `limits`, and each batch's nodes and buffers laid out as
    /// its columns need. Answers the message, its body realigned where the decoder needs it.
    ///
    /// # Errors
    /// A [`Data`](dbapi::ErrorKind::Data) error naming the limit (and its URL key) for a
    /// message too large; an [`Internal`](dbapi::ErrorKind::Internal) error for a malformed
    /// one.
    pub(crate) fn check(&mut self, mut data: FlightData) -> Result<FlightData> {
        let message = arrow::ipc::root_as_message(&data.data_header)
            .map_err(|e| malformed(format!("invalid IPC message header: {e}")))?;
        let body = data.data_body.len();
        self.bytes = self
            .bytes
            .saturating_add((data.data_header.len() + body) as u64);
        let declared = message.bodyLength();
        if usize::try_from(declared).map_or(true, |d| d > body) {
            return Err(malformed(format!(
                "truncated message: the header declares a body of {declared} bytes, {body} \
                 arrived"
            )));
        }
        if body > self.limits.max_message_size {
            return Err(too_large(
                format!("a message body of {body} bytes"),
                self.limits.max_message_size,
                "max_message_size",
            ));
        }
        if let Some(schema) = message.header_as_schema() {
            // A stream's schema message: the same walk as every other schema, before the
            // decoder (which panics on what it finds malformed) reads it.
            check_schema_fields(&schema)
                .map_err(|why| malformed(format!("an undecodable schema: {why}")))?;
            let decoded = std::panic::catch_unwind(|| arrow::ipc::convert::fb_to_schema(schema))
                .map_err(|_| {
                    malformed("an undecodable schema: the schema decoder failed".to_owned())
                })?;
            self.schema = Some(decoded);
            self.dictionaries.clear();
            return Ok(data);
        }
        let dictionary = message.header_as_dictionary_batch();
        if dictionary.is_some_and(|d| d.data().is_none()) {
            return Err(malformed("a dictionary batch without its data".to_owned()));
        }
        let Some(batch) = record_batch_of(&message) else {
            return Ok(data);
        };
        let compression = batch.compression().map(|c| c.codec());
        let decoded = self.decoded_size(&batch, &data.data_body, compression)?;
        // Checked after the bytes: a message lying about both is refused for its bytes.
        check_rows(batch.length(), "a batch", self.limits)?;
        if dictionary.is_none() {
            self.rows = self.rows.saturating_add(batch.length().max(0) as u64);
        }
        if let Some(dictionary) = dictionary {
            let total = self.dictionaries.entry(dictionary.id()).or_default();
            *total = if dictionary.isDelta() {
                total.saturating_add(decoded)
            } else {
                decoded
            };
            if *total > self.limits.max_decoded_size as u64 {
                return Err(too_large(
                    format!(
                        "dictionary {} grown by delta batches to {total} bytes",
                        dictionary.id()
                    ),
                    self.limits.max_decoded_size,
                    "max_decoded_size",
                ));
            }
        }
        let Some(schema) = &self.schema else {
            // The decoder refuses a batch before the schema.
            return Ok(data);
        };
        let layout = layout::Body {
            bytes: &data.data_body,
            compression,
            version: message.version(),
        };
        let checked = match dictionary {
            None => {
                let columns: Vec<(&str, &DataType)> = schema
                    .fields()
                    .iter()
                    .map(|f| (f.name().as_str(), f.data_type()))
                    .collect();
                layout::check(&batch, &columns, layout)
            }
            Some(dictionary) => {
                // The decoder reads a dictionary as a batch of one column of its value type.
                #[allow(deprecated)]
                let fields = schema.fields_with_dict_id(dictionary.id());
                match fields.first().map(|f| f.data_type()) {
                    Some(DataType::Dictionary(_, values)) => {
                        layout::check(&batch, &[("(a dictionary)", values.as_ref())], layout)
                    }
                    // The decoder refuses a dictionary the schema does not have.
                    _ => Ok(()),
                }
            }
        };
        checked.map_err(|why| malformed(format!("malformed message: {why}")))?;
        // The decoder reads a dictionary's body where it lies (a batch's, it copies to
        // aligned memory): the offsets of a union inside must be aligned.
        if dictionary.is_some() && !(data.data_body.as_ptr() as usize).is_multiple_of(8) {
            data.data_body = bytes::Bytes::from_owner(AlignedBody(arrow::buffer::Buffer::from(
                data.data_body.as_ref(),
            )));
        }
        Ok(data)
    }

    /// The decoded size of a batch's buffers, each checked to lie inside the body.
    fn decoded_size(
        &self,
        batch: &arrow::ipc::RecordBatch<'_>,
        body: &[u8],
        compression: Option<CompressionType>,
    ) -> Result<u64> {
        let limits = self.limits;
        let mut decoded: u64 = 0;
        for buffer in batch.buffers().iter().flatten() {
            let (offset, length) = (buffer.offset(), buffer.length());
            let end = offset.checked_add(length);
            let inside = offset >= 0
                && length >= 0
                && end
                    .and_then(|e| usize::try_from(e).ok())
                    .is_some_and(|e| e <= body.len());
            if !inside {
                return Err(malformed(format!(
                    "malformed message: a buffer at offset {offset} of length {length} lies \
                     outside the {}-byte body",
                    body.len()
                )));
            }
            // Both are checked non-negative and inside the body.
            let bytes = &body[offset as usize..(offset + length) as usize];
            let size = match compression {
                None => length as u64,
                Some(codec) => compressed_size(bytes, codec, limits)?,
            };
            decoded = decoded.saturating_add(size);
            if decoded > limits.max_decoded_size as u64 {
                return Err(too_large(
                    format!("a message whose buffers decode to more than {decoded} bytes"),
                    limits.max_decoded_size,
                    "max_decoded_size",
                ));
            }
        }
        Ok(decoded)
    }
}

/// The record batch of a message (also the one inside a dictionary batch).
fn record_batch_of<'a>(message: &Message<'a>) -> Option<arrow::ipc::RecordBatch<'a>> {
    match message.header_type() {
        MessageHeader::RecordBatch => message.header_as_record_batch(),
        MessageHeader::DictionaryBatch => message.header_as_dictionary_batch()?.data(),
        _ => None,
    }
}

/// The decoded size of one compressed buffer: its declared uncompressed length, checked
/// against the limit; for LZ4, whose decoder reads a frame to its end whatever was declared,
/// also the length the frame really expands to (counted, never held).
fn compressed_size(bytes: &[u8], codec: CompressionType, limits: Limits) -> Result<u64> {
    if bytes.is_empty() {
        return Ok(0);
    }
    let Some(prefix) = bytes.get(..8) else {
        return Err(malformed(format!(
            "malformed message: a compressed buffer of {} bytes has no length prefix",
            bytes.len()
        )));
    };
    let mut raw = [0_u8; 8];
    raw.copy_from_slice(prefix);
    let declared = i64::from_le_bytes(raw);
    if declared == NOT_COMPRESSED {
        return Ok((bytes.len() - 8) as u64);
    }
    let Ok(declared) = u64::try_from(declared) else {
        return Err(malformed(format!(
            "malformed message: a compressed buffer declares an uncompressed length of {declared}"
        )));
    };
    if declared > limits.max_decoded_size as u64 {
        return Err(too_large(
            format!("a compressed buffer that declares {declared} bytes uncompressed"),
            limits.max_decoded_size,
            "max_decoded_size",
        ));
    }
    if codec == CompressionType::LZ4_FRAME {
        let actual = lz4_expanded_size(&bytes[8..], declared)?;
        if actual != declared {
            let expands = if actual > declared {
                format!("more than {declared}")
            } else {
                actual.to_string()
            };
            return Err(malformed(format!(
                "malformed message: an LZ4 buffer declares {declared} bytes uncompressed and \
                 expands to {expands}"
            )));
        }
    }
    Ok(declared)
}

/// How many bytes an LZ4 frame expands to, counting at most `bound + 1` of them through a
/// small scratch buffer.
fn lz4_expanded_size(frame: &[u8], bound: u64) -> Result<u64> {
    let mut decoder = lz4_flex::frame::FrameDecoder::new(frame).take(bound + 1);
    let mut scratch = [0_u8; 16 << 10];
    let mut total = 0_u64;
    loop {
        match decoder.read(&mut scratch) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(malformed(format!(
                    "malformed message: an LZ4 buffer cannot be decompressed: {e}"
                )));
            }
        }
    }
}

/// Decodes a schema sent as an encapsulated IPC message (`FlightInfo.schema`, `GetSchema`,
/// a prepared statement's dataset and parameter schemas, `GetTables`' `table_schema`): the
/// one place schemas from a server are decoded. Never panics.
///
/// # Errors
/// An [`Internal`](dbapi::ErrorKind::Internal) error naming `what` for bytes that are not a
/// schema.
pub(crate) fn schema(bytes: &[u8], what: &str) -> Result<Schema> {
    check_schema_message(bytes)
        .map_err(|why| Error::internal(format!("the server sent an undecodable {what}: {why}")))?;
    // What the check above cannot foresee still never escapes as a panic.
    let decoded = std::panic::catch_unwind(|| {
        Schema::try_from(arrow_flight::IpcMessage(bytes::Bytes::copy_from_slice(
            bytes,
        )))
    });
    match decoded {
        Ok(Ok(schema)) => {
            check_schema(&schema).map_err(|e| e.context(format_args!("the {what}")))?;
            Ok(schema)
        }
        Ok(Err(e)) => Err(Error::internal(format!(
            "the server sent an undecodable {what}: {e}"
        ))),
        Err(_) => Err(Error::internal(format!(
            "the server sent an undecodable {what}: the schema decoder failed on a malformed \
             message"
        ))),
    }
}

/// Checks a row count (of a batch, or the length of an array that costs no bytes per value)
/// against `max_batch_rows`.
fn check_rows(rows: i64, what: &str, limits: Limits) -> Result<()> {
    if usize::try_from(rows).map_or(true, |r| r > limits.max_batch_rows) {
        return Err(Error::data(format!(
            "{what} of {rows} rows is more than max_batch_rows ({} rows); raise the URL option \
             max_batch_rows (e.g. max_batch_rows=4194304) if the server is trusted",
            limits.max_batch_rows
        )));
    }
    Ok(())
}

/// Checks what a schema declares that Arrow's own code, or a host reading it through the C
/// data interface, would trust later: decimal types whose precision and scale are possible
/// (a scale above the precision panics Arrow's formatters), names and metadata without NUL
/// bytes (C strings end at the first; other characters are the text of a name, which
/// terminals show escaped), and time zones without any control character, at any depth.
///
/// # Errors
/// An [`Internal`](dbapi::ErrorKind::Internal) error naming the column and its type.
pub(crate) fn check_schema(schema: &Schema) -> Result<()> {
    check_metadata("the schema", schema.metadata())?;
    for field in schema.fields() {
        check_field_strings(field.name(), field)?;
        check_type(field.name(), field.data_type())?;
    }
    Ok(())
}

/// Checks a field's name and metadata, and those of its children.
fn check_field_strings(column: &str, field: &arrow::datatypes::Field) -> Result<()> {
    check_text(
        &format!("the name of a field of column {column:?}"),
        field.name(),
        true,
    )?;
    check_metadata(&format!("column {column:?}"), field.metadata())?;
    let check_children = |fields: &arrow::datatypes::Fields| {
        fields
            .iter()
            .try_for_each(|f| check_field_strings(column, f))
    };
    match field.data_type() {
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => check_field_strings(column, f),
        DataType::Struct(fields) => check_children(fields),
        DataType::Union(fields, _) => fields
            .iter()
            .try_for_each(|(_, f)| check_field_strings(column, f)),
        DataType::RunEndEncoded(ends, values) => {
            check_field_strings(column, ends)?;
            check_field_strings(column, values)
        }
        _ => Ok(()),
    }
}

fn check_metadata(owner: &str, metadata: &std::collections::HashMap<String, String>) -> Result<()> {
    for (key, value) in metadata {
        check_text(&format!("a metadata key of {owner}"), key, true)?;
        check_text(&format!("the metadata {key:?} of {owner}"), value, true)?;
    }
    Ok(())
}

/// Refuses a NUL byte anywhere, and, unless `names` (text a user may have chosen, shown
/// escaped where it is shown), any other control character.
fn check_text(what: &str, text: &str, names: bool) -> Result<()> {
    let bad = text
        .chars()
        .find(|&c| c == '\0' || (!names && c.is_control()));
    match bad {
        None => Ok(()),
        Some(c) => Err(Error::internal(format!(
            "the server sent {what} holding the control character {:?}",
            c.escape_unicode().to_string()
        ))),
    }
}

fn check_type(name: &str, data_type: &DataType) -> Result<()> {
    let valid = match data_type {
        DataType::Timestamp(_, Some(zone)) => {
            return check_text(&format!("the time zone of column {name:?}"), zone, false);
        }
        DataType::Decimal32(p, s) => validate_decimal_precision_and_scale::<Decimal32Type>(*p, *s),
        DataType::Decimal64(p, s) => validate_decimal_precision_and_scale::<Decimal64Type>(*p, *s),
        DataType::Decimal128(p, s) => {
            validate_decimal_precision_and_scale::<Decimal128Type>(*p, *s)
        }
        DataType::Decimal256(p, s) => {
            validate_decimal_precision_and_scale::<Decimal256Type>(*p, *s)
        }
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => return check_type(name, f.data_type()),
        DataType::Struct(fields) => {
            return fields
                .iter()
                .try_for_each(|f| check_type(name, f.data_type()));
        }
        DataType::Union(fields, _) => {
            return fields
                .iter()
                .try_for_each(|(_, f)| check_type(name, f.data_type()));
        }
        DataType::Dictionary(_, value) => return check_type(name, value),
        DataType::RunEndEncoded(_, values) => return check_type(name, values.data_type()),
        _ => Ok(()),
    };
    valid.map_err(|e| {
        Error::internal(format!(
            "column {name:?} has an impossible type {data_type}: {e}"
        ))
    })
}

/// Checks the values of a batch that Arrow's own code would trust later (its row count was
/// checked in its header by [`MessageGuard::check`]): the length of every array (at any depth)
/// whose type needs no bytes per value, and every
/// decimal at any depth (in lists, structs, maps, unions, dictionaries, run-end encoded
/// values) fits the precision its type declares (a formatter would drop the digits beyond
/// it). Columns of primitive and text types cost nothing.
///
/// # Errors
/// A [`Data`](dbapi::ErrorKind::Data) error naming `max_batch_rows` for too long an array; an
/// [`Internal`](dbapi::ErrorKind::Internal) error naming the column for a decimal with too
/// many digits.
pub(crate) fn check_batch(batch: &RecordBatch, limits: Limits) -> Result<()> {
    for (field, column) in batch.schema_ref().fields().iter().zip(batch.columns()) {
        if is_flat(field.data_type()) {
            continue;
        }
        check_array(field.name(), &column.to_data(), limits)?;
    }
    Ok(())
}

/// Whether values of this type hold nothing the batch check looks at: no decimals, no
/// children, and at least one byte or bit per value.
fn is_flat(data_type: &DataType) -> bool {
    !(data_type.is_nested()
        || matches!(
            data_type,
            DataType::Null
                | DataType::Decimal32(..)
                | DataType::Decimal64(..)
                | DataType::Decimal128(..)
                | DataType::Decimal256(..)
                | DataType::FixedSizeBinary(0)
                | DataType::Dictionary(..)
                | DataType::RunEndEncoded(..)
        ))
}

fn check_array(name: &str, data: &arrow::array::ArrayData, limits: Limits) -> Result<()> {
    let data_type = data.data_type();
    let costless = match data_type {
        DataType::Null | DataType::FixedSizeBinary(0) | DataType::RunEndEncoded(..) => true,
        DataType::FixedSizeList(_, size) => *size == 0,
        DataType::Struct(fields) => fields.is_empty(),
        _ => false,
    };
    if costless {
        check_rows(
            data.len() as i64,
            &format!("an array of type {data_type} in column {name:?}"),
            limits,
        )?;
    }
    let digits = |e: arrow::error::ArrowError| {
        Error::internal(format!(
            "column {name:?} holds a value with more digits than its type {data_type} allows: {e}"
        ))
    };
    match data_type {
        DataType::Decimal32(p, _) => arrow::array::Decimal32Array::from(data.clone())
            .validate_decimal_precision(*p)
            .map_err(digits)?,
        DataType::Decimal64(p, _) => arrow::array::Decimal64Array::from(data.clone())
            .validate_decimal_precision(*p)
            .map_err(digits)?,
        DataType::Decimal128(p, _) => arrow::array::Decimal128Array::from(data.clone())
            .validate_decimal_precision(*p)
            .map_err(digits)?,
        DataType::Decimal256(p, _) => arrow::array::Decimal256Array::from(data.clone())
            .validate_decimal_precision(*p)
            .map_err(digits)?,
        _ => {}
    }
    for child in data.child_data() {
        if !is_flat(child.data_type()) {
            check_array(name, child, limits)?;
        }
    }
    Ok(())
}

/// Checks an encapsulated schema message for what Arrow's schema decoder panics on instead of
/// answering an error: missing fields, type tables that do not match their type, impossible
/// widths and units, nested types without their children, decimals whose precision or scale
/// do not fit, unknown types. Nothing is allocated but the walk.
fn check_schema_message(bytes: &[u8]) -> std::result::Result<(), String> {
    let flatbuffer = match bytes.get(..4) {
        Some([0xff, 0xff, 0xff, 0xff]) => bytes.get(8..),
        Some(_) => bytes.get(4..),
        None => None,
    }
    .ok_or("the message is shorter than its length prefix")?;
    let message =
        arrow::ipc::root_as_message(flatbuffer).map_err(|e| format!("invalid message: {e}"))?;
    let schema = message
        .header_as_schema()
        .ok_or("the message holds no schema")?;
    check_schema_fields(&schema)
}

/// The walk of [`check_schema_message`] over a schema already found in a message.
fn check_schema_fields(schema: &arrow::ipc::Schema<'_>) -> std::result::Result<(), String> {
    let fields = schema.fields().ok_or("the schema has no field list")?;
    for field in fields {
        if field.type_type() == arrow::ipc::Type::Decimal
            && schema.endianness() == arrow::ipc::Endianness::Big
        {
            return Err("big-endian decimals are not supported".into());
        }
        check_field(&field, 0)?;
    }
    Ok(())
}

/// The nesting depth beyond which a schema is refused.
const MAX_DEPTH: usize = 64;

fn check_field(field: &arrow::ipc::Field<'_>, depth: usize) -> std::result::Result<(), String> {
    use arrow::ipc::{DateUnit, IntervalUnit, Precision, TimeUnit, Type, UnionMode};
    let name = field.name().unwrap_or_default();
    let bad = |what: &str| Err(format!("field {name:?}: {what}"));
    if depth > MAX_DEPTH {
        return bad("nested too deep");
    }
    let children = field.children().map_or(0, |c| c.len());
    let int_width = |bits: i32| matches!(bits, 8 | 16 | 32 | 64);
    let unit = |u: TimeUnit| {
        matches!(
            u,
            TimeUnit::SECOND | TimeUnit::MILLISECOND | TimeUnit::MICROSECOND | TimeUnit::NANOSECOND
        )
    };
    if let Some(dictionary) = field.dictionary() {
        match dictionary.indexType() {
            Some(index) if int_width(index.bitWidth()) => {}
            _ => return bad("a dictionary without a valid integer index type"),
        }
    }
    let valid = match field.type_type() {
        Type::Null
        | Type::Bool
        | Type::Binary
        | Type::BinaryView
        | Type::LargeBinary
        | Type::Utf8
        | Type::Utf8View
        | Type::LargeUtf8
        | Type::Struct_ => true,
        Type::Int => field.type_as_int().is_some_and(|t| int_width(t.bitWidth())),
        Type::FixedSizeBinary => field.type_as_fixed_size_binary().is_some(),
        Type::FloatingPoint => field.type_as_floating_point().is_some_and(|t| {
            matches!(
                t.precision(),
                Precision::HALF | Precision::SINGLE | Precision::DOUBLE
            )
        }),
        Type::Date => field
            .type_as_date()
            .is_some_and(|t| matches!(t.unit(), DateUnit::DAY | DateUnit::MILLISECOND)),
        Type::Time => field.type_as_time().is_some_and(|t| {
            matches!(
                (t.bitWidth(), t.unit()),
                (32, TimeUnit::SECOND | TimeUnit::MILLISECOND)
                    | (64, TimeUnit::MICROSECOND | TimeUnit::NANOSECOND)
            )
        }),
        Type::Timestamp => field.type_as_timestamp().is_some_and(|t| unit(t.unit())),
        Type::Duration => field.type_as_duration().is_some_and(|t| unit(t.unit())),
        Type::Interval => field.type_as_interval().is_some_and(|t| {
            matches!(
                t.unit(),
                IntervalUnit::YEAR_MONTH | IntervalUnit::DAY_TIME | IntervalUnit::MONTH_DAY_NANO
            )
        }),
        Type::List | Type::LargeList | Type::ListView | Type::LargeListView => children == 1,
        Type::FixedSizeList => children == 1 && field.type_as_fixed_size_list().is_some(),
        Type::Map => children == 1 && field.type_as_map().is_some(),
        Type::RunEndEncoded => children == 2,
        Type::Decimal => field.type_as_decimal().is_some_and(|t| {
            u8::try_from(t.precision()).is_ok()
                && i8::try_from(t.scale()).is_ok()
                && matches!(t.bitWidth(), 32 | 64 | 128 | 256)
        }),
        Type::Union => field.type_as_union().is_some_and(|t| {
            matches!(t.mode(), UnionMode::Dense | UnionMode::Sparse)
                && children <= 127
                && t.typeIds().is_none_or(|ids| {
                    let ids: Vec<i32> = ids.iter().collect();
                    let mut unique = ids.clone();
                    unique.sort_unstable();
                    unique.dedup();
                    ids.len() == children
                        && unique.len() == ids.len()
                        && ids.iter().all(|id| (0..=127).contains(id))
                })
        }),
        _ => false,
    };
    if !valid {
        return bad(&format!(
            "type {:?} is malformed or unknown",
            field.type_type()
        ));
    }
    for child in field.children().iter().flatten() {
        check_field(&child, depth + 1)?;
    }
    Ok(())
}

fn malformed(text: String) -> Error {
    Error::internal(format!("cannot decode the stream: {text}"))
}

fn too_large(what: String, limit: usize, key: &str) -> Error {
    Error::data(format!(
        "{what} is larger than {key} ({limit} bytes); raise the URL option {key} (e.g. \
         {key}=256MiB) if the server is trusted"
    ))
}

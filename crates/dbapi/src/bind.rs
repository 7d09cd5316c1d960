//! Parameter binding: [`Value`]s to Arrow arrays, converted to the parameter schema a server
//! announces. This is the one place where values become Arrow data (the other direction is
//! `value.rs`).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Decimal256Array,
    DurationNanosecondArray, Float16Array, Float32Array, Float64Array, Int8Array, Int16Array,
    Int32Array, Int64Array, IntervalDayTimeArray, IntervalMonthDayNanoArray,
    IntervalYearMonthArray, NullArray, StringArray, Time64NanosecondArray,
    TimestampMicrosecondArray, TimestampNanosecondArray, UInt8Array, UInt16Array, UInt32Array,
    UInt64Array, new_null_array,
};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use chrono::{NaiveDate, Timelike};

use crate::{Error, Params, Result, Value};

/// The sigils that start a named placeholder (`$name`, `:name`, `@name`).
const SIGILS: [char; 3] = ['$', ':', '@'];

/// Builds the parameter batch of one or more parameter sets: one row per set, one column per
/// parameter.
///
/// With a `schema` (the parameter schema the server announced), the columns follow its fields:
/// positional values are taken in order, named values are matched to field names (ignoring a
/// leading `$`, `:` or `@` on either side), and each value is converted to the field's type
/// (a field of type `Null` means "unknown": the value keeps its own type). Without a schema,
/// or with an empty one when values are given, each value keeps its own Arrow type, and
/// columns are named `1`, `2`, ... (positional: servers matching by position ignore the
/// names, servers matching by name without the sigil find them) or by the given names
/// (without their sigil).
///
/// # Errors
/// - [`ErrorKind::Programming`](crate::ErrorKind::Programming): a wrong number of values,
///   a missing or unknown name, parameter sets of different shapes;
/// - [`ErrorKind::Data`](crate::ErrorKind::Data): a value that cannot be converted to its
///   parameter's type (the message names the parameter and both types);
/// - [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported): a list, struct or map value.
pub fn bind(sets: &[Params], schema: Option<&Schema>) -> Result<RecordBatch> {
    let schema = schema.filter(|s| !s.fields().is_empty() || sets.iter().all(Params::is_empty));
    let columns = match schema {
        Some(schema) => columns_by_schema(sets, schema)?,
        None => columns_by_values(sets)?,
    };
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays = Vec::with_capacity(columns.len());
    for (name, target, values) in columns {
        let array = to_array(&name, &values, target.as_ref())?;
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    let options = RecordBatchOptions::new().with_row_count(Some(sets.len()));
    Ok(RecordBatch::try_new_with_options(
        SchemaRef::new(Schema::new(fields)),
        arrays,
        &options,
    )?)
}

/// A column to build: the parameter's name, its target type (if known) and its values.
type ColumnSpec<'a> = (String, Option<DataType>, Vec<&'a Value>);

fn strip(name: &str) -> &str {
    name.strip_prefix(SIGILS).unwrap_or(name)
}

fn columns_by_schema<'a>(sets: &'a [Params], schema: &Schema) -> Result<Vec<ColumnSpec<'a>>> {
    let fields = schema.fields();
    let mut columns: Vec<ColumnSpec<'a>> = fields
        .iter()
        .map(|f| {
            let target = (f.data_type() != &DataType::Null).then(|| f.data_type().clone());
            (f.name().clone(), target, Vec::with_capacity(sets.len()))
        })
        .collect();
    for (n, set) in sets.iter().enumerate() {
        let at = |e: Error| {
            if sets.len() > 1 {
                e.context(format_args!("parameter set {}", n + 1))
            } else {
                e
            }
        };
        match set {
            Params::None | Params::Positional(_) => {
                let values: &[Value] = match set {
                    Params::Positional(v) => v,
                    _ => &[],
                };
                if values.len() != fields.len() {
                    return Err(at(Error::programming(format!(
                        "the statement has {} parameter{} ({}), {} value{} given",
                        fields.len(),
                        plural(fields.len()),
                        names(schema),
                        values.len(),
                        plural(values.len()),
                    ))));
                }
                for (column, value) in columns.iter_mut().zip(values) {
                    column.2.push(value);
                }
            }
            Params::Named(pairs) => {
                for (name, _) in pairs {
                    if !fields.iter().any(|f| strip(f.name()) == strip(name)) {
                        return Err(at(Error::programming(format!(
                            "unknown parameter {name:?}; the statement's parameters are {}",
                            names(schema)
                        ))));
                    }
                }
                for column in &mut columns {
                    let value = pairs
                        .iter()
                        .find(|(name, _)| strip(name) == strip(&column.0))
                        .map(|(_, v)| v)
                        .ok_or_else(|| {
                            at(Error::programming(format!(
                                "no value for parameter {:?}",
                                column.0
                            )))
                        })?;
                    column.2.push(value);
                }
            }
        }
    }
    Ok(columns)
}

fn columns_by_values(sets: &[Params]) -> Result<Vec<ColumnSpec<'_>>> {
    let Some(first) = sets.first() else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = match first {
        Params::None => Vec::new(),
        // `1`, `2`, ...: servers that match by position ignore the names, and servers that
        // match by name without the sigil (InfluxDB 3: `$1` takes the column `1`) find them.
        Params::Positional(v) => (1..=v.len()).map(|i| i.to_string()).collect(),
        Params::Named(pairs) => pairs.iter().map(|(n, _)| strip(n).to_owned()).collect(),
    };
    let mut columns: Vec<ColumnSpec<'_>> = names
        .into_iter()
        .map(|n| (n, None, Vec::with_capacity(sets.len())))
        .collect();
    for (n, set) in sets.iter().enumerate() {
        let mismatch = || {
            Error::programming(format!(
                "parameter set {} does not have the shape of the first ({} {} values)",
                n + 1,
                first.len(),
                if matches!(first, Params::Named(_)) {
                    "named"
                } else {
                    "positional"
                }
            ))
        };
        match (first, set) {
            (Params::None, Params::None) => {}
            (Params::Positional(_), Params::Positional(values))
                if values.len() == columns.len() =>
            {
                for (column, value) in columns.iter_mut().zip(values) {
                    column.2.push(value);
                }
            }
            (Params::Named(_), Params::Named(pairs)) if pairs.len() == columns.len() => {
                for column in &mut columns {
                    let value = pairs
                        .iter()
                        .find(|(name, _)| strip(name) == column.0)
                        .map(|(_, v)| v)
                        .ok_or_else(mismatch)?;
                    column.2.push(value);
                }
            }
            _ => return Err(mismatch()),
        }
    }
    Ok(columns)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn names(schema: &Schema) -> String {
    if schema.fields().is_empty() {
        return "none".to_owned();
    }
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect();
    names.join(", ")
}

/// One parameter's values as an array of `target` type (or of the values' own type).
fn to_array(name: &str, values: &[&Value], target: Option<&DataType>) -> Result<ArrayRef> {
    let natural = match natural_array(name, values)? {
        Some(array) => array,
        None => {
            // Values of different types: convert one by one, to the target or to the type of
            // the first non-null value.
            let target = match target {
                Some(t) => t.clone(),
                None => match values.iter().find(|v| !v.is_null()) {
                    Some(v) => natural_array(name, &[v])?
                        .map(|a| a.data_type().clone())
                        .unwrap_or(DataType::Null),
                    None => DataType::Null,
                },
            };
            let mut parts = Vec::with_capacity(values.len());
            for value in values {
                let single = natural_array(name, &[value])?
                    .ok_or_else(|| Error::internal("a single value has one type"))?;
                parts.push(convert(name, single, &target)?);
            }
            let refs: Vec<&dyn Array> = parts.iter().map(AsRef::as_ref).collect();
            return Ok(arrow::compute::concat(&refs)?);
        }
    };
    match target {
        Some(target) => convert(name, natural, target),
        None => Ok(natural),
    }
}

/// Converts an array to the parameter's type, refusing conversions that would change a value's
/// meaning (a float into an integer parameter, a number into a string parameter...).
fn convert(name: &str, array: ArrayRef, target: &DataType) -> Result<ArrayRef> {
    let from = array.data_type();
    if from == target {
        return Ok(array);
    }
    if from == &DataType::Null {
        return Ok(new_null_array(target, array.len()));
    }
    let mismatch = || {
        Error::data(format!(
            "parameter {name}: cannot bind a {from} value to a parameter of type {target}"
        ))
    };
    if !compatible(from, target) {
        return Err(mismatch());
    }
    let options = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    cast_with_options(&array, target, &options).map_err(|e| mismatch().with_source(e))
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_binary(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
    )
}

fn is_decimal(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..)
    )
}

/// Whether a value of type `from` may be bound to a parameter of type `to` (the cast then
/// checks each value: overflow, a string that does not parse, ... are errors).
fn compatible(from: &DataType, to: &DataType) -> bool {
    use DataType as T;
    let dictionary_value = match to {
        T::Dictionary(_, value) => Some(value.as_ref()),
        _ => None,
    };
    if let Some(value) = dictionary_value {
        return compatible(from, value);
    }
    if is_string(from) {
        // A string parses into any scalar type (strictly).
        return !matches!(to, T::List(_) | T::LargeList(_) | T::Struct(_) | T::Map(..));
    }
    if from.is_integer() {
        return to.is_integer() || to.is_floating() || is_decimal(to);
    }
    if from.is_floating() || is_decimal(from) {
        return to.is_floating() || is_decimal(to);
    }
    match from {
        T::Boolean => matches!(to, T::Boolean),
        _ if is_binary(from) => is_binary(to),
        T::Date32 | T::Date64 => matches!(to, T::Date32 | T::Date64 | T::Timestamp(..)),
        T::Timestamp(..) => matches!(to, T::Timestamp(..) | T::Date32 | T::Date64),
        T::Time32(_) | T::Time64(_) => matches!(to, T::Time32(_) | T::Time64(_)),
        T::Duration(_) => matches!(to, T::Duration(_)),
        T::Interval(_) => matches!(to, T::Interval(_)),
        _ => false,
    }
}

/// The values as one array of their own type; `None` when they are of different types.
fn natural_array(name: &str, values: &[&Value]) -> Result<Option<ArrayRef>> {
    let Some(first) = values.iter().find(|v| !v.is_null()) else {
        return Ok(Some(Arc::new(NullArray::new(values.len()))));
    };
    macro_rules! collect {
        ($array:ty, $pattern:pat => $out:expr) => {{
            let mut out = Vec::with_capacity(values.len());
            for value in values {
                match value {
                    Value::Null => out.push(None),
                    $pattern => out.push(Some($out)),
                    _ => return Ok(None),
                }
            }
            Arc::new(<$array>::from(out)) as ArrayRef
        }};
    }
    let array: ArrayRef = match first {
        Value::Null => Arc::new(NullArray::new(values.len())),
        Value::Bool(_) => collect!(BooleanArray, Value::Bool(v) => *v),
        Value::Int8(_) => collect!(Int8Array, Value::Int8(v) => *v),
        Value::Int16(_) => collect!(Int16Array, Value::Int16(v) => *v),
        Value::Int32(_) => collect!(Int32Array, Value::Int32(v) => *v),
        Value::Int64(_) => collect!(Int64Array, Value::Int64(v) => *v),
        Value::UInt8(_) => collect!(UInt8Array, Value::UInt8(v) => *v),
        Value::UInt16(_) => collect!(UInt16Array, Value::UInt16(v) => *v),
        Value::UInt32(_) => collect!(UInt32Array, Value::UInt32(v) => *v),
        Value::UInt64(_) => collect!(UInt64Array, Value::UInt64(v) => *v),
        Value::Float16(_) => collect!(Float16Array, Value::Float16(v) => *v),
        Value::Float32(_) => collect!(Float32Array, Value::Float32(v) => *v),
        Value::Float64(_) => collect!(Float64Array, Value::Float64(v) => *v),
        Value::String(_) => collect!(StringArray, Value::String(v) => v.as_str()),
        Value::Binary(_) => collect!(BinaryArray, Value::Binary(v) => v.as_slice()),
        Value::Date(_) => {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            let mut out = Vec::with_capacity(values.len());
            for value in values {
                match value {
                    Value::Null => out.push(None),
                    Value::Date(d) => {
                        let days = i32::try_from((*d - epoch).num_days()).map_err(|_| {
                            Error::data(format!("parameter {name}: date {d} is out of range"))
                        })?;
                        out.push(Some(days));
                    }
                    _ => return Ok(None),
                }
            }
            Arc::new(Date32Array::from(out))
        }
        Value::Time(_) => collect!(Time64NanosecondArray, Value::Time(t) =>
            i64::from(t.num_seconds_from_midnight()) * 1_000_000_000 + i64::from(t.nanosecond())),
        Value::Timestamp(_) => {
            let mut nanos = Vec::with_capacity(values.len());
            for value in values {
                match value {
                    Value::Null => nanos.push(None),
                    Value::Timestamp(t) => match t.and_utc().timestamp_nanos_opt() {
                        Some(n) => nanos.push(Some(n)),
                        // Outside the nanosecond range (years 1677..2262): microseconds.
                        None => {
                            return Ok(Some(Arc::new(microseconds(values)?)));
                        }
                    },
                    _ => return Ok(None),
                }
            }
            Arc::new(TimestampNanosecondArray::from(nanos))
        }
        Value::TimestampTz(_, zone) => {
            let mut nanos = Vec::with_capacity(values.len());
            for value in values {
                match value {
                    Value::Null => nanos.push(None),
                    Value::TimestampTz(t, z) if z == zone => {
                        nanos.push(Some(t.timestamp_nanos_opt().ok_or_else(|| {
                            Error::data(format!(
                                "parameter {name}: timestamp {t} is outside the nanosecond range"
                            ))
                        })?));
                    }
                    _ => return Ok(None),
                }
            }
            Arc::new(TimestampNanosecondArray::from(nanos).with_timezone(zone.as_ref()))
        }
        Value::Duration(_) => {
            let mut out = Vec::with_capacity(values.len());
            for value in values {
                match value {
                    Value::Null => out.push(None),
                    Value::Duration(d) => out.push(Some(d.num_nanoseconds().ok_or_else(|| {
                        Error::data(format!(
                            "parameter {name}: duration {d} is outside the nanosecond range"
                        ))
                    })?)),
                    _ => return Ok(None),
                }
            }
            Arc::new(DurationNanosecondArray::from(out))
        }
        Value::IntervalYearMonth(_) => {
            collect!(IntervalYearMonthArray, Value::IntervalYearMonth(v) => *v)
        }
        Value::IntervalDayTime(_) => {
            collect!(IntervalDayTimeArray, Value::IntervalDayTime(v) => *v)
        }
        Value::IntervalMonthDayNano(_) => {
            collect!(IntervalMonthDayNanoArray, Value::IntervalMonthDayNano(v) => *v)
        }
        Value::Decimal(d) => {
            let (precision, scale) = (d.precision(), d.scale());
            let fits = values.iter().all(|v| match v {
                Value::Null => true,
                Value::Decimal(x) => x.mantissa_i128().is_some(),
                _ => false,
            });
            let same = values.iter().all(|v| match v {
                Value::Null => true,
                Value::Decimal(x) => x.precision() == precision && x.scale() == scale,
                _ => false,
            });
            if !same {
                return Ok(None);
            }
            if fits && precision <= 38 {
                let out: Vec<Option<i128>> = values
                    .iter()
                    .map(|v| match v {
                        Value::Decimal(x) => x.mantissa_i128(),
                        _ => None,
                    })
                    .collect();
                Arc::new(Decimal128Array::from(out).with_precision_and_scale(precision, scale)?)
            } else {
                let out: Vec<Option<arrow::datatypes::i256>> = values
                    .iter()
                    .map(|v| match v {
                        Value::Decimal(x) => Some(x.mantissa()),
                        _ => None,
                    })
                    .collect();
                Arc::new(
                    Decimal256Array::from(out).with_precision_and_scale(precision.max(1), scale)?,
                )
            }
        }
        Value::List(_) | Value::Struct(_) | Value::Map(_) => {
            return Err(Error::not_supported(format!(
                "parameter {name}: binding {} values is not supported",
                first.type_name()
            )));
        }
    };
    Ok(Some(array))
}

fn microseconds(values: &[&Value]) -> Result<TimestampMicrosecondArray> {
    Ok(TimestampMicrosecondArray::from(
        values
            .iter()
            .map(|v| match v {
                Value::Timestamp(t) => Some(t.and_utc().timestamp_micros()),
                _ => None,
            })
            .collect::<Vec<_>>(),
    ))
}

/// The Arrow type [`bind`] gives a value when no parameter schema says otherwise.
///
/// # Errors
/// As [`bind`] for a list, struct or map value.
pub fn natural_type(value: &Value) -> Result<DataType> {
    Ok(natural_array("value", &[value])?
        .map(|a| a.data_type().clone())
        .unwrap_or(DataType::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::AsArray;
    use arrow::datatypes::{Int32Type, TimeUnit};

    fn schema(fields: &[(&str, DataType)]) -> Schema {
        Schema::new(
            fields
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn positional_values_convert_to_the_announced_types() {
        let s = schema(&[("$1", DataType::Int32), ("$2", DataType::Utf8View)]);
        let batch = bind(
            &[Params::Positional(vec![Value::Int64(7), "alice".into()])],
            Some(&s),
        )
        .unwrap();
        assert_eq!(batch.column(0).data_type(), &DataType::Int32);
        assert_eq!(batch.column(0).as_primitive::<Int32Type>().value(0), 7);
        assert_eq!(batch.column(1).as_string_view().value(0), "alice");
    }

    #[test]
    fn unconvertible_values_name_the_parameter_and_both_types() {
        let s = schema(&[("$1", DataType::Int32)]);
        let e = bind(&[Params::Positional(vec![Value::Float64(1.5)])], Some(&s)).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Data);
        assert!(e.to_string().contains("parameter $1"), "{e}");
        assert!(
            e.to_string().contains("Float64") && e.to_string().contains("Int32"),
            "{e}"
        );
        let e = bind(&[Params::Positional(vec![Value::Int64(1 << 40)])], Some(&s)).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Data, "overflow: {e}");
        let e = bind(&[Params::Positional(vec!["x".into()])], Some(&s)).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Data, "unparsable: {e}");
    }

    #[test]
    fn counts_and_names_are_checked() {
        let s = schema(&[("$id", DataType::Int64), ("$name", DataType::Utf8)]);
        let e = bind(&[Params::Positional(vec![Value::Int64(1)])], Some(&s)).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Programming);
        assert!(e.to_string().contains("2 parameters"), "{e}");
        let named = |pairs: &[(&str, Value)]| {
            Params::Named(
                pairs
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), v.clone()))
                    .collect(),
            )
        };
        let e = bind(&[named(&[("id", Value::Int64(1))])], Some(&s)).unwrap_err();
        assert!(
            e.to_string().contains("no value for parameter \"$name\""),
            "{e}"
        );
        let e = bind(
            &[named(&[
                ("id", 1_i64.into()),
                ("name", "a".into()),
                ("x", 2_i64.into()),
            ])],
            Some(&s),
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown parameter \"x\""), "{e}");
        // Names match with or without a sigil, in any order.
        let batch = bind(
            &[named(&[(":name", "a".into()), ("$id", 1_i64.into())])],
            Some(&s),
        )
        .unwrap();
        assert_eq!(batch.schema().field(0).name(), "$id");
        assert_eq!(batch.column(1).as_string::<i32>().value(0), "a");
    }

    #[test]
    fn without_a_schema_values_keep_their_types() {
        let batch = bind(
            &[
                Params::Positional(vec![Value::Int16(1), Value::Null]),
                Params::Positional(vec![Value::Null, Value::Bool(true)]),
            ],
            None,
        )
        .unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema().field(0).name(), "1");
        assert_eq!(batch.column(0).data_type(), &DataType::Int16);
        assert_eq!(batch.column(1).data_type(), &DataType::Boolean);
        assert!(batch.column(0).is_null(1));
        let e = bind(
            &[
                Params::Positional(vec![Value::Int16(1)]),
                Params::Positional(vec![]),
            ],
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("parameter set 2"), "{e}");
    }

    #[test]
    fn mixed_types_in_one_column_are_converted_one_by_one() {
        let s = schema(&[("$1", DataType::Int64)]);
        let batch = bind(
            &[
                Params::Positional(vec![Value::Int32(1)]),
                Params::Positional(vec![Value::Int64(2)]),
                Params::Positional(vec![Value::Null]),
            ],
            Some(&s),
        )
        .unwrap();
        assert_eq!(batch.column(0).len(), 3);
        assert_eq!(batch.column(0).data_type(), &DataType::Int64);
    }

    #[test]
    fn nested_values_are_not_supported() {
        let e = bind(&[Params::Positional(vec![Value::List(vec![])])], None).unwrap_err();
        assert!(e.is_not_supported(), "{e}");
    }

    #[test]
    fn natural_types() {
        assert_eq!(natural_type(&Value::Int8(1)).unwrap(), DataType::Int8);
        assert_eq!(
            natural_type(&Value::TimestampTz(
                chrono::DateTime::UNIX_EPOCH,
                "UTC".into()
            ))
            .unwrap(),
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
        );
        assert_eq!(natural_type(&Value::Null).unwrap(), DataType::Null);
    }
}

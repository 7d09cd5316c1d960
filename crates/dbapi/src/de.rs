//! `serde` deserialization of rows and values into user types.
//!
//! A row deserializes as a map from column names to values (structs, `HashMap`s) or as a
//! sequence of values in column order (tuples, `Vec`s); a row of one column also
//! deserializes as that column's value. Text and bytes are borrowed from the Arrow buffers
//! where the target allows it. Values that `serde` has no type for are given in the form the
//! usual crates read: decimals as their exact text (`rust_decimal::Decimal` and
//! `bigdecimal::BigDecimal` parse it), dates, times and timestamps as ISO 8601 / RFC 3339 text
//! (`chrono`'s `serde` forms; a timestamp with a time zone in UTC), durations as nanoseconds,
//! intervals as text.

use std::fmt;

use arrow::array::Array;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

use crate::reader::{Reader, RowData};
use crate::value_ref::ValueRef;
use crate::{Column, Error, Value};

/// The error of a deserialization, before it is turned into an [`Error`].
#[derive(Debug)]
pub(crate) struct DeError(String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

impl From<Error> for DeError {
    fn from(e: Error) -> Self {
        DeError(e.to_string())
    }
}

/// Deserializes row `index` of `data` into `T`; errors name the column (and so the field).
pub(crate) fn row<'de, T: de::Deserialize<'de>>(
    data: &'de RowData,
    index: usize,
) -> crate::Result<T> {
    let mut at = None;
    let row = RowAt { data, index };
    let out = T::deserialize(RowDeserializer { row, at: &mut at });
    out.map_err(|e| {
        let message = match at {
            Some(n) => format!(
                "column {n} ({:?}): {e}",
                row.columns().get(n).map_or("?", |c| c.name())
            ),
            None => e.to_string(),
        };
        Error::data(format!("cannot deserialize the row: {message}"))
    })
}

/// One row of a batch's [`RowData`].
#[derive(Clone, Copy)]
struct RowAt<'de> {
    data: &'de RowData,
    index: usize,
}

impl<'de> RowAt<'de> {
    fn len(&self) -> usize {
        self.data.readers.len()
    }

    fn columns(&self) -> &'de [Column] {
        &self.data.columns
    }

    /// The value of column `n`, which the caller has checked is below [`len`](Self::len).
    fn value_ref(&self, n: usize) -> ValueRef<'de> {
        ValueRef::new(&self.data.readers[n], self.index)
    }
}

/// A row; `at` records the column being read, for error messages.
struct RowDeserializer<'de, 'a> {
    row: RowAt<'de>,
    at: &'a mut Option<usize>,
}

impl<'de> Deserializer<'de> for RowDeserializer<'de, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_map(Columns {
            row: self.row,
            next: 0,
            at: self.at,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_seq(Columns {
            row: self.row,
            next: 0,
            at: self.at,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if len != self.row.len() {
            return Err(DeError(format!(
                "a tuple of {len} cannot hold a row of {} columns",
                self.row.len()
            )));
        }
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        unit unit_struct identifier
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.single()?.deserialize_enum(name, variants, visitor)
    }

    // A row of one column is also that column's value.
    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_bool(v)
    }
    fn deserialize_i8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_i8(v)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_i16(v)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_i32(v)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_i64(v)
    }
    fn deserialize_i128<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_i128(v)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_u8(v)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_u16(v)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_u32(v)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_u64(v)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_f32(v)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_f64(v)
    }
    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_char(v)
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_str(v)
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_string(v)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_bytes(v)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_byte_buf(v)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.single()?.deserialize_option(v)
    }
}

impl<'de> RowDeserializer<'de, '_> {
    /// The only column's value.
    fn single(self) -> Result<CellDeserializer<'de>, DeError> {
        if self.row.len() != 1 {
            return Err(DeError(format!(
                "a row of {} columns is not a single value",
                self.row.len()
            )));
        }
        *self.at = Some(0);
        Ok(CellDeserializer(self.row.value_ref(0)))
    }
}

/// The columns of a row, as map entries or sequence elements.
struct Columns<'de, 'a> {
    row: RowAt<'de>,
    next: usize,
    at: &'a mut Option<usize>,
}

impl<'de> MapAccess<'de> for Columns<'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(column) = self.row.columns().get(self.next) else {
            *self.at = None;
            return Ok(None);
        };
        *self.at = Some(self.next);
        let name: &'de str = column.name();
        seed.deserialize(de::value::BorrowedStrDeserializer::new(name))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let n = self.next;
        self.next += 1;
        *self.at = Some(n);
        seed.deserialize(CellDeserializer(self.row.value_ref(n)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.row.len() - self.next)
    }
}

impl<'de> SeqAccess<'de> for Columns<'de, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        if self.next >= self.row.len() {
            *self.at = None;
            return Ok(None);
        }
        let n = self.next;
        self.next += 1;
        *self.at = Some(n);
        seed.deserialize(CellDeserializer(self.row.value_ref(n)))
            .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.row.len() - self.next)
    }
}

/// One value of a row, read in place where the column has a fast reader.
struct CellDeserializer<'de>(ValueRef<'de>);

impl<'de> Deserializer<'de> for CellDeserializer<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let v = self.0;
        let (reader, i) = v.parts();
        // The common columns read in place (each arm checking its own array for NULL: one
        // `match`), the others through `Value`; NULL is the unit.
        match reader {
            Reader::Utf8(a) if !a.is_null(i) => visitor.visit_borrowed_str(a.value(i)),
            Reader::LargeUtf8(a) if !a.is_null(i) => visitor.visit_borrowed_str(a.value(i)),
            Reader::Utf8View(a) if !a.is_null(i) => visitor.visit_borrowed_str(a.value(i)),
            Reader::Binary(a) if !a.is_null(i) => visitor.visit_borrowed_bytes(a.value(i)),
            Reader::Bool(a) if !a.is_null(i) => visitor.visit_bool(a.value(i)),
            Reader::Int8(a) if !a.is_null(i) => visitor.visit_i64(a.value(i).into()),
            Reader::Int16(a) if !a.is_null(i) => visitor.visit_i64(a.value(i).into()),
            Reader::Int32(a) if !a.is_null(i) => visitor.visit_i64(a.value(i).into()),
            Reader::Int64(a) if !a.is_null(i) => visitor.visit_i64(a.value(i)),
            Reader::UInt8(a) if !a.is_null(i) => visitor.visit_u64(a.value(i).into()),
            Reader::UInt16(a) if !a.is_null(i) => visitor.visit_u64(a.value(i).into()),
            Reader::UInt32(a) if !a.is_null(i) => visitor.visit_u64(a.value(i).into()),
            // As before: a u64 that fits an i64 is given as one.
            Reader::UInt64(a) if !a.is_null(i) => match i64::try_from(a.value(i)) {
                Ok(n) => visitor.visit_i64(n),
                Err(_) => visitor.visit_u64(a.value(i)),
            },
            Reader::Float32(a) if !a.is_null(i) => visitor.visit_f64(a.value(i).into()),
            Reader::Float64(a) if !a.is_null(i) => visitor.visit_f64(a.value(i)),
            Reader::Date32(_) => match reader.date(i) {
                Some(d) => visit_date(d?, visitor),
                None => visitor.visit_unit(),
            },
            Reader::Decimal128(..) => match reader.decimal(i) {
                Some(d) => visitor.visit_string(d.to_string()),
                None => visitor.visit_unit(),
            },
            Reader::TimestampS(..)
            | Reader::TimestampMs(..)
            | Reader::TimestampUs(..)
            | Reader::TimestampNs(..) => match reader.timestamp(i) {
                Some(t) => visit_timestamp(t?, visitor),
                None => visitor.visit_unit(),
            },
            Reader::Other(..) | Reader::Given(_) if !reader.is_null(i) => {
                if let Some(b) = v.as_bytes() {
                    return visitor.visit_borrowed_bytes(b);
                }
                if let Some(s) = v.as_str() {
                    return visitor.visit_borrowed_str(s);
                }
                ValueDeserializer(v.to_value()?).deserialize_any(visitor)
            }
            _ => visitor.visit_unit(),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == crate::serde_with::TIMESTAMP {
            // A timestamp asked for by `dbapi::serde_with`: its nanoseconds, no text (and,
            // for a timestamp column, no calendar).
            let (reader, i) = self.0.parts();
            if let Some(n) = reader.timestamp_nanos(i) {
                return visitor.visit_i64(n);
            }
            let t = match self.0.timestamp() {
                Some(t) => Some(t.map_err(|e| DeError(e.to_string()))?),
                None => match self.0.to_value() {
                    Ok(Value::TimestampTz(t, _)) => Some(t.naive_utc()),
                    _ => None,
                },
            };
            if let Some(t) = t {
                let t = t.and_utc();
                return match t.timestamp_nanos_opt() {
                    Some(n) => visitor.visit_i64(n),
                    None => visitor.visit_i128(
                        i128::from(t.timestamp()) * 1_000_000_000
                            + i128::from(t.timestamp_subsec_nanos()),
                    ),
                };
            }
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.0.as_str() {
            Some(s) => visitor.visit_enum(de::value::BorrowedStrDeserializer::new(s)),
            None => ValueDeserializer(self.0.to_value()?).deserialize_enum(name, variants, visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// ISO 8601 text of dates and times, written into a stack buffer: what chrono's `Debug`
/// writes (and its `Deserialize` parses), without formatting machinery or an allocation per
/// value. Years outside 0..=9999 are left to chrono.
struct Iso {
    buf: [u8; 40],
    len: usize,
}

impl Iso {
    fn new() -> Iso {
        Iso {
            buf: [0; 40],
            len: 0,
        }
    }

    fn push(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    fn digits(&mut self, mut n: u32, width: usize) {
        for i in (0..width).rev() {
            self.buf[self.len + i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.len += width;
    }

    /// `YYYY-MM-DD`; false (nothing written) for years outside 0..=9999.
    fn date(&mut self, d: chrono::NaiveDate) -> bool {
        use chrono::Datelike;
        let Ok(year) = u32::try_from(d.year()) else {
            return false;
        };
        if year > 9999 {
            return false;
        }
        self.digits(year, 4);
        self.push(b'-');
        self.digits(d.month(), 2);
        self.push(b'-');
        self.digits(d.day(), 2);
        true
    }

    /// `HH:MM:SS`, then `.fff`, `.ffffff` or `.fffffffff` when there is a fraction.
    fn time(&mut self, t: chrono::NaiveTime) {
        use chrono::Timelike;
        self.digits(t.hour(), 2);
        self.push(b':');
        self.digits(t.minute(), 2);
        self.push(b':');
        // A leap second is written as :60, as chrono does.
        let nanos = t.nanosecond();
        let (second, nanos) = if nanos >= 1_000_000_000 {
            (t.second() + 1, nanos - 1_000_000_000)
        } else {
            (t.second(), nanos)
        };
        self.digits(second, 2);
        let (fraction, width) = if nanos % 1_000_000 == 0 {
            (nanos / 1_000_000, 3)
        } else if nanos % 1_000 == 0 {
            (nanos / 1_000, 6)
        } else {
            (nanos, 9)
        };
        if nanos != 0 {
            self.push(b'.');
            self.digits(fraction, width);
        }
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and separators were written.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// A date given as ISO 8601 text.
fn visit_date<'de, V: Visitor<'de>>(d: chrono::NaiveDate, visitor: V) -> Result<V::Value, DeError> {
    let mut text = Iso::new();
    if text.date(d) {
        visitor.visit_str(text.as_str())
    } else {
        visitor.visit_string(format!("{d:?}"))
    }
}

/// A timestamp without time zone given as ISO 8601 text.
fn visit_timestamp<'de, V: Visitor<'de>>(
    t: chrono::NaiveDateTime,
    visitor: V,
) -> Result<V::Value, DeError> {
    let mut text = Iso::new();
    if text.date(t.date()) {
        text.push(b'T');
        text.time(t.time());
        visitor.visit_str(text.as_str())
    } else {
        visitor.visit_string(format!("{t:?}"))
    }
}

/// A [`Value`], owned.
struct ValueDeserializer(Value);

impl<'de> Deserializer<'de> for ValueDeserializer {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(v) => visitor.visit_bool(v),
            Value::Int8(v) => visitor.visit_i8(v),
            Value::Int16(v) => visitor.visit_i16(v),
            Value::Int32(v) => visitor.visit_i32(v),
            Value::Int64(v) => visitor.visit_i64(v),
            Value::UInt8(v) => visitor.visit_u8(v),
            Value::UInt16(v) => visitor.visit_u16(v),
            Value::UInt32(v) => visitor.visit_u32(v),
            Value::UInt64(v) => visitor.visit_u64(v),
            Value::Float16(v) => visitor.visit_f32(v.to_f32()),
            Value::Float32(v) => visitor.visit_f32(v),
            Value::Float64(v) => visitor.visit_f64(v),
            Value::Decimal(d) => visitor.visit_string(d.to_string()),
            Value::String(s) => visitor.visit_string(s),
            Value::Binary(b) => visitor.visit_byte_buf(b),
            Value::Date(d) => visit_date(d, visitor),
            Value::Time(t) => {
                let mut text = Iso::new();
                text.time(t);
                visitor.visit_str(text.as_str())
            }
            Value::Timestamp(t) => visit_timestamp(t, visitor),
            Value::TimestampTz(t, _) => {
                let mut text = Iso::new();
                let naive = t.naive_utc();
                if text.date(naive.date()) {
                    text.push(b'T');
                    text.time(naive.time());
                    text.push(b'Z');
                    visitor.visit_str(text.as_str())
                } else {
                    visitor.visit_string(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                }
            }
            Value::Duration(d) => match d.num_nanoseconds() {
                Some(n) => visitor.visit_i64(n),
                None => Err(DeError(format!(
                    "the duration {d} does not fit in i64 nanoseconds"
                ))),
            },
            v @ (Value::IntervalYearMonth(_)
            | Value::IntervalDayTime(_)
            | Value::IntervalMonthDayNano(_)) => visitor.visit_string(v.to_string()),
            Value::List(items) => visitor.visit_seq(de::value::SeqDeserializer::new(
                items.into_iter().map(ValueDeserializer),
            )),
            Value::Struct(fields) => visitor.visit_map(de::value::MapDeserializer::new(
                fields.into_iter().map(|(k, v)| (k, ValueDeserializer(v))),
            )),
            Value::Map(entries) => visitor.visit_map(de::value::MapDeserializer::new(
                entries
                    .into_iter()
                    .map(|(k, v)| (ValueDeserializer(k), ValueDeserializer(v))),
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            other => Err(DeError(format!(
                "an enum is read from text, not from a {} value",
                other.type_name()
            ))),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, DeError> for ValueDeserializer {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl crate::Row {
    /// The row deserialized into `T` with `serde`: a struct (or map) by column name, a tuple
    /// (or `Vec`) by position, a single value for a row of one column. `Option` fields take
    /// NULL; `&str` and `&[u8]` fields borrow from the row. See `docs/types.md` for the form of
    /// each type.
    ///
    /// # Errors
    /// An [`ErrorKind::Data`](crate::ErrorKind::Data) error naming the column (for structs,
    /// the field) and what did not fit.
    pub fn deserialize<'de, T: serde::Deserialize<'de>>(&'de self) -> crate::Result<T> {
        row(&self.data, self.index)
    }
}

#[cfg(test)]
mod iso_tests {
    use super::Iso;
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

    #[test]
    fn iso_text_is_chronos_and_parses_back() {
        let times = [
            NaiveTime::from_hms_opt(0, 0, 0),
            NaiveTime::from_hms_milli_opt(1, 2, 3, 400),
            NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999),
            NaiveTime::from_hms_nano_opt(12, 0, 0, 1),
            NaiveTime::from_hms_milli_opt(23, 59, 59, 1_500),
        ];
        let dates = [
            NaiveDate::from_ymd_opt(1970, 1, 1),
            NaiveDate::from_ymd_opt(2026, 11, 28),
            NaiveDate::from_ymd_opt(9, 2, 3),
            NaiveDate::from_ymd_opt(9999, 12, 31),
        ];
        for d in dates.into_iter().flatten() {
            for t in times.into_iter().flatten() {
                let dt = NaiveDateTime::new(d, t);
                let mut text = Iso::new();
                assert!(text.date(d));
                text.push(b'T');
                text.time(t);
                assert_eq!(text.as_str(), format!("{dt:?}"));
                assert_eq!(text.as_str().parse::<NaiveDateTime>().unwrap(), dt);
            }
        }
        let mut text = Iso::new();
        assert!(!text.date(NaiveDate::from_ymd_opt(-5, 1, 1).unwrap()));
        assert!(!text.date(NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap()));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, Decimal128Array, Float64Array, Int32Array, Int64Array, ListArray, MapBuilder,
        StringArray, StringBuilder, StructArray, TimestampMicrosecondArray,
    };
    use arrow::datatypes::{DataType, Field, Int32Type};
    use arrow::record_batch::RecordBatch;
    use serde::Deserialize;

    use crate::Row;
    use crate::row::describe;

    fn rows(batch: &RecordBatch) -> Vec<Row> {
        let columns = describe(&batch.schema());
        (0..batch.num_rows())
            .map(|i| Row::from_batch(&columns, batch, i).unwrap())
            .collect()
    }

    fn people() -> RecordBatch {
        RecordBatch::try_from_iter([
            ("id", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
            (
                "name",
                Arc::new(StringArray::from(vec![Some("Ada"), Some("Émilie")])) as ArrayRef,
            ),
            (
                "score",
                Arc::new(Float64Array::from(vec![Some(9.5), None])) as ArrayRef,
            ),
            (
                "amount",
                Arc::new(
                    Decimal128Array::from(vec![12_340_i128, -5])
                        .with_precision_and_scale(10, 3)
                        .unwrap(),
                ) as ArrayRef,
            ),
            (
                "seen",
                Arc::new(
                    TimestampMicrosecondArray::from(vec![1_767_348_000_000_000, 0])
                        .with_timezone("Europe/Paris"),
                ) as ArrayRef,
            ),
            (
                "day",
                Arc::new(TimestampMicrosecondArray::from(vec![1_500_000, 0])) as ArrayRef,
            ),
        ])
        .unwrap()
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Person<'a> {
        id: i64,
        name: &'a str,
        score: Option<f64>,
        amount: rust_decimal::Decimal,
        seen: chrono::DateTime<chrono::Utc>,
        day: chrono::NaiveDateTime,
    }

    #[test]
    fn structs_by_name_borrowing_text_with_exact_decimals_and_times() {
        let batch = people();
        let rows = rows(&batch);
        let p: Person<'_> = rows[0].deserialize().unwrap();
        assert_eq!(p.id, 1);
        assert_eq!(p.name, "Ada");
        assert_eq!(p.score, Some(9.5));
        assert_eq!(p.amount.to_string(), "12.340");
        assert_eq!(p.seen.to_rfc3339(), "2026-01-02T10:00:00+00:00");
        assert_eq!(p.day.to_string(), "1970-01-01 00:00:01.500");
        let q: Person<'_> = rows[1].deserialize().unwrap();
        assert_eq!((q.name, q.score), ("Émilie", None));
        assert_eq!(q.amount.to_string(), "-0.005");
    }

    #[test]
    fn tuples_by_position_newtypes_and_single_values() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct Id(i64);
        #[derive(Debug, Deserialize, PartialEq)]
        struct Slim {
            name: String,
        }
        let batch = people();
        let rows = rows(&batch);
        let t: (Id, String, Option<f64>, String, String, String) = rows[1].deserialize().unwrap();
        assert_eq!(t.0, Id(2));
        assert_eq!(t.3, "-0.005");
        assert_eq!(t.4, "1970-01-01T00:00:00Z");
        // Columns a struct does not name are skipped.
        let s: Slim = rows[0].deserialize().unwrap();
        assert_eq!(s.name, "Ada");
        let map: HashMap<String, serde_json::Value> = rows[1].deserialize().unwrap();
        assert_eq!(map["score"], serde_json::Value::Null);
        assert_eq!(map["id"], serde_json::json!(2));
        // A single column is also a value.
        let one =
            RecordBatch::try_from_iter([("n", Arc::new(Int32Array::from(vec![7])) as ArrayRef)])
                .unwrap();
        let n: u8 = rows_of(&one)[0].deserialize().unwrap();
        assert_eq!(n, 7);
    }

    fn rows_of(batch: &RecordBatch) -> Vec<Row> {
        rows(batch)
    }

    #[test]
    fn nested_lists_structs_and_maps() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct Point {
            x: i32,
            label: Option<String>,
        }
        #[derive(Debug, Deserialize)]
        struct Nested {
            tags: Vec<Option<i32>>,
            point: Point,
            attrs: HashMap<String, i32>,
        }
        let tags = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![
            Some(1),
            None,
            Some(3),
        ])]);
        let point = StructArray::from(vec![
            (
                Arc::new(Field::new("x", DataType::Int32, false)),
                Arc::new(Int32Array::from(vec![4])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("label", DataType::Utf8, true)),
                Arc::new(StringArray::from(vec![None::<&str>])) as ArrayRef,
            ),
        ]);
        let mut attrs = MapBuilder::new(None, StringBuilder::new(), Int32Array::builder(2));
        attrs.keys().append_value("a");
        attrs.values().append_value(1);
        attrs.keys().append_value("b");
        attrs.values().append_value(2);
        attrs.append(true).unwrap();
        let batch = RecordBatch::try_from_iter([
            ("tags", Arc::new(tags) as ArrayRef),
            ("point", Arc::new(point) as ArrayRef),
            ("attrs", Arc::new(attrs.finish()) as ArrayRef),
        ])
        .unwrap();
        let n: Nested = rows(&batch)[0].deserialize().unwrap();
        assert_eq!(n.tags, [Some(1), None, Some(3)]);
        assert_eq!(n.point, Point { x: 4, label: None });
        assert_eq!(n.attrs, HashMap::from([("a".into(), 1), ("b".into(), 2)]));
    }

    #[test]
    fn enums_read_from_text() {
        #[derive(Debug, Deserialize, PartialEq)]
        #[serde(rename_all = "lowercase")]
        enum State {
            Open,
            Closed,
        }
        let batch = RecordBatch::try_from_iter([(
            "state",
            Arc::new(StringArray::from(vec!["open", "closed", "lost"])) as ArrayRef,
        )])
        .unwrap();
        let rows = rows(&batch);
        assert_eq!(rows[0].deserialize::<(State,)>().unwrap(), (State::Open,));
        assert_eq!(rows[1].deserialize::<State>().unwrap(), State::Closed);
        let e = rows[2].deserialize::<State>().unwrap_err();
        assert!(e.to_string().contains("lost"), "{e}");
    }

    #[test]
    fn errors_name_the_column_and_what_did_not_fit() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Wrong {
            id: i64,
            name: i64,
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Missing {
            id: i64,
            nickname: String,
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct NotNull {
            score: f64,
        }
        let batch = people();
        let rows = rows(&batch);
        let e = rows[0].deserialize::<Wrong>().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Data);
        let text = e.to_string();
        assert!(text.contains(r#"column 1 ("name")"#), "{text}");
        assert!(text.contains("Ada"), "{text}");
        let e = rows[0].deserialize::<Missing>().unwrap_err();
        assert!(e.to_string().contains("nickname"), "{e}");
        let e = rows[1].deserialize::<NotNull>().unwrap_err();
        assert!(e.to_string().contains(r#"column 2 ("score")"#), "{e}");
        let e = rows[0].deserialize::<(i64, String)>().unwrap_err();
        assert!(e.to_string().contains("a tuple of 2"), "{e}");
        let e = rows[0].deserialize::<i64>().unwrap_err();
        assert!(e.to_string().contains("not a single value"), "{e}");
    }
}

//! Faster `serde` forms for timestamps: `#[serde(deserialize_with = "...")]` functions that
//! read a timestamp column as its nanoseconds instead of ISO 8601 text (which chrono's own
//! `Deserialize` needs, at the cost of a formatting and a parse per value). With other
//! formats (JSON, ...) they read the usual text form.
//!
//! ```
//! #[derive(serde::Deserialize)]
//! struct Reading {
//!     sensor: String,
//!     #[serde(deserialize_with = "dbapi::serde_with::naive_datetime")]
//!     time: chrono::NaiveDateTime,
//!     #[serde(deserialize_with = "dbapi::serde_with::option_utc_datetime")]
//!     checked: Option<chrono::DateTime<chrono::Utc>>,
//! }
//! # let _ = serde_json::from_str::<Reading>(
//! #     r#"{"sensor":"s1","time":"2026-01-02T03:04:05.5","checked":"2026-01-02T03:04:05Z"}"#,
//! # ).unwrap();
//! ```
//!
//! `#[derive(FromRow)]` reads timestamps faster still (no serde at all).

use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::{self, Deserializer, Visitor};

/// The newtype name the row deserializer recognises: it then gives the nanoseconds.
pub(crate) const TIMESTAMP: &str = "dbapi::serde_with::Timestamp";

struct TimestampVisitor;

fn from_nanos<E: de::Error>(nanos: i128) -> Result<NaiveDateTime, E> {
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000))
        .map_err(|_| E::custom(format!("timestamp {nanos} ns is out of range")))?;
    let sub = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
    DateTime::from_timestamp(secs, sub)
        .map(|t| t.naive_utc())
        .ok_or_else(|| E::custom(format!("timestamp {nanos} ns is out of range")))
}

impl<'de> Visitor<'de> for TimestampVisitor {
    type Value = NaiveDateTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a timestamp")
    }

    fn visit_i64<E: de::Error>(self, nanos: i64) -> Result<NaiveDateTime, E> {
        Ok(DateTime::from_timestamp_nanos(nanos).naive_utc())
    }

    fn visit_i128<E: de::Error>(self, nanos: i128) -> Result<NaiveDateTime, E> {
        from_nanos(nanos)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<NaiveDateTime, E> {
        // RFC 3339 with an offset (normalised to UTC), or a naive ISO 8601 timestamp.
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(t.naive_utc());
        }
        text.parse::<NaiveDateTime>()
            .map_err(|e| E::custom(format!("{text:?} is not a timestamp: {e}")))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<NaiveDateTime, D::Error> {
        d.deserialize_str(self)
    }
}

struct OptionVisitor;

impl<'de> Visitor<'de> for OptionVisitor {
    type Value = Option<NaiveDateTime>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a timestamp or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        naive_datetime(d).map(Some)
    }
}

/// A `chrono::NaiveDateTime` from a timestamp column (a time zone's instant in UTC).
///
/// # Errors
/// The deserializer's, for a value that is no timestamp.
pub fn naive_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
    d.deserialize_newtype_struct(TIMESTAMP, TimestampVisitor)
}

/// A `chrono::DateTime<Utc>` from a timestamp column (one without a time zone taken as UTC).
///
/// # Errors
/// As [`naive_datetime`].
pub fn utc_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    naive_datetime(d).map(|t| t.and_utc())
}

/// [`naive_datetime`] for a column that may be NULL.
///
/// # Errors
/// As [`naive_datetime`].
pub fn option_naive_datetime<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<NaiveDateTime>, D::Error> {
    d.deserialize_option(OptionVisitor)
}

/// [`utc_datetime`] for a column that may be NULL.
///
/// # Errors
/// As [`naive_datetime`].
pub fn option_utc_datetime<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    option_naive_datetime(d).map(|t| t.map(|t| t.and_utc()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, TimestampNanosecondArray, TimestampSecondArray};
    use arrow::record_batch::RecordBatch;

    use crate::Row;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Fast {
        #[serde(deserialize_with = "super::naive_datetime")]
        t: chrono::NaiveDateTime,
        #[serde(deserialize_with = "super::option_utc_datetime")]
        tz: Option<chrono::DateTime<chrono::Utc>>,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Slow {
        t: chrono::NaiveDateTime,
        tz: Option<chrono::DateTime<chrono::Utc>>,
    }

    #[test]
    fn the_fast_forms_read_what_the_text_forms_read() {
        let batch = RecordBatch::try_from_iter([
            (
                "t",
                Arc::new(TimestampNanosecondArray::from(vec![
                    1_700_000_000_123_456_789,
                    -1,
                ])) as ArrayRef,
            ),
            (
                "tz",
                Arc::new(
                    TimestampSecondArray::from(vec![Some(1_700_000_000), None])
                        .with_timezone("Europe/Paris"),
                ) as _,
            ),
        ])
        .unwrap();
        let columns = crate::driver::describe(&batch.schema());
        for i in 0..2 {
            let row = Row::from_batch(&columns, &batch, i).unwrap();
            let fast: Fast = row.deserialize().unwrap();
            let slow: Slow = row.deserialize().unwrap();
            assert_eq!((fast.t, fast.tz), (slow.t, slow.tz), "row {i}");
        }
        // Other formats read the text form.
        let json: Fast =
            serde_json::from_str(r#"{"t":"2026-01-02T03:04:05.5","tz":null}"#).unwrap();
        assert_eq!(json.t.to_string(), "2026-01-02 03:04:05.500");
    }
}

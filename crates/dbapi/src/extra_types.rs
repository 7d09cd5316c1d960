//! Values of optional crates, each behind its feature: `uuid::Uuid` (`uuid`),
//! `serde_json::Value` (`json`), and the `time` crate's dates and times (`time`), read from
//! rows with [`Row::get`](crate::Row::get) and `#[derive(FromRow)]`, and bound as parameters.

#[cfg(feature = "uuid")]
mod uuid_values {
    use crate::value_ref::ValueRef;
    use crate::{FromValueRef, Result, Value};

    /// Read from 16 bytes (Arrow's UUID extension type is `FixedSizeBinary(16)`) or from text
    /// (`"67e55044-10b1-426f-9247-bb680e5fe0c8"`).
    impl FromValueRef<'_> for uuid::Uuid {
        fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
            if let Some(bytes) = value.as_bytes() {
                return uuid::Uuid::from_slice(bytes).map_err(|_| {
                    value.mismatch::<uuid::Uuid>(Some(format!("{} bytes, not 16", bytes.len())))
                });
            }
            if let Some(text) = value.as_str() {
                return uuid::Uuid::parse_str(text)
                    .map_err(|e| value.mismatch::<uuid::Uuid>(Some(e.to_string())));
            }
            Err(value.mismatch::<uuid::Uuid>(None))
        }
    }

    /// Bound as its 16 bytes (`Binary`; the server casts where its column is a UUID).
    impl From<uuid::Uuid> for Value {
        fn from(u: uuid::Uuid) -> Value {
            Value::Binary(u.as_bytes().to_vec())
        }
    }
}

#[cfg(feature = "json")]
mod json_values {
    use crate::value_ref::ValueRef;
    use crate::{FromValueRef, Result, Value};

    /// Parsed from text: a JSON column (Arrow's `arrow.json` extension type is text) or any
    /// text column holding JSON.
    impl FromValueRef<'_> for serde_json::Value {
        fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
            match value.as_str() {
                Some(text) => serde_json::from_str(text).map_err(|e| {
                    value.mismatch::<serde_json::Value>(Some(format!("not JSON: {e}")))
                }),
                None => Err(value.mismatch::<serde_json::Value>(None)),
            }
        }
    }

    /// Bound as its JSON text.
    impl From<serde_json::Value> for Value {
        fn from(v: serde_json::Value) -> Value {
            Value::String(v.to_string())
        }
    }
}

#[cfg(feature = "time")]
mod time_values {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

    use crate::value_ref::ValueRef;
    use crate::{FromValueRef, Result, Value};

    fn date_of(d: NaiveDate) -> Option<time::Date> {
        use chrono::Datelike;
        let month = time::Month::try_from(u8::try_from(d.month()).ok()?).ok()?;
        time::Date::from_calendar_date(d.year(), month, u8::try_from(d.day()).ok()?).ok()
    }

    fn time_of(t: NaiveTime) -> Option<time::Time> {
        time::Time::from_hms_nano(
            u8::try_from(t.hour()).ok()?,
            u8::try_from(t.minute()).ok()?,
            u8::try_from(t.second()).ok()?,
            t.nanosecond().min(999_999_999),
        )
        .ok()
    }

    fn out_of_range<T>(value: &ValueRef<'_>) -> crate::Error {
        value.mismatch::<T>(Some("out of the time crate's range".into()))
    }

    /// From a date column.
    impl FromValueRef<'_> for time::Date {
        fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
            let d = NaiveDate::from_value_ref(value)?;
            date_of(d).ok_or_else(|| out_of_range::<time::Date>(&value))
        }
    }

    /// From a time-of-day column.
    impl FromValueRef<'_> for time::Time {
        fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
            let t = NaiveTime::from_value_ref(value)?;
            time_of(t).ok_or_else(|| out_of_range::<time::Time>(&value))
        }
    }

    /// From a timestamp without time zone.
    impl FromValueRef<'_> for time::PrimitiveDateTime {
        fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
            let t = NaiveDateTime::from_value_ref(value)?;
            match (date_of(t.date()), time_of(t.time())) {
                (Some(d), Some(t)) => Ok(time::PrimitiveDateTime::new(d, t)),
                _ => Err(out_of_range::<time::PrimitiveDateTime>(&value)),
            }
        }
    }

    /// From a timestamp with a time zone (the instant, in UTC).
    impl FromValueRef<'_> for time::OffsetDateTime {
        fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
            let t = DateTime::<Utc>::from_value_ref(value)?;
            let nanos = t
                .timestamp_nanos_opt()
                .map(i128::from)
                .ok_or_else(|| out_of_range::<time::OffsetDateTime>(&value))?;
            time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .map_err(|_| out_of_range::<time::OffsetDateTime>(&value))
        }
    }

    fn naive_date(d: time::Date) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(d.year(), u32::from(u8::from(d.month())), u32::from(d.day()))
    }

    fn naive_time(t: time::Time) -> Option<NaiveTime> {
        NaiveTime::from_hms_nano_opt(
            u32::from(t.hour()),
            u32::from(t.minute()),
            u32::from(t.second()),
            t.nanosecond(),
        )
    }

    /// A date (every `time::Date` is one of chrono's).
    impl From<time::Date> for Value {
        fn from(d: time::Date) -> Value {
            naive_date(d).map_or(Value::Null, Value::Date)
        }
    }

    /// A time of day.
    impl From<time::Time> for Value {
        fn from(t: time::Time) -> Value {
            naive_time(t).map_or(Value::Null, Value::Time)
        }
    }

    /// A timestamp without time zone.
    impl From<time::PrimitiveDateTime> for Value {
        fn from(t: time::PrimitiveDateTime) -> Value {
            match (naive_date(t.date()), naive_time(t.time())) {
                (Some(d), Some(t)) => Value::Timestamp(NaiveDateTime::new(d, t)),
                _ => Value::Null,
            }
        }
    }

    /// A timestamp in UTC.
    impl From<time::OffsetDateTime> for Value {
        fn from(t: time::OffsetDateTime) -> Value {
            let nanos = t.unix_timestamp_nanos();
            match i64::try_from(nanos) {
                Ok(n) => Value::from(DateTime::<Utc>::from_timestamp_nanos(n)),
                Err(_) => Value::Null,
            }
        }
    }
}

#[cfg(all(test, feature = "uuid", feature = "json", feature = "time"))]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, FixedSizeBinaryArray, StringArray, TimestampMicrosecondArray};
    use arrow::record_batch::RecordBatch;

    use crate::{FromRow, Row, Value};

    fn row() -> crate::Result<Row> {
        let id = uuid::Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8);
        let batch = RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(FixedSizeBinaryArray::try_from_iter(
                    [id.as_bytes()].into_iter(),
                )?) as ArrayRef,
            ),
            (
                "id_text",
                Arc::new(StringArray::from(vec![id.to_string()])) as _,
            ),
            (
                "doc",
                Arc::new(StringArray::from(vec![r#"{"a":[1,2]}"#])) as _,
            ),
            ("bad_doc", Arc::new(StringArray::from(vec!["{"])) as _),
            (
                "ts",
                Arc::new(TimestampMicrosecondArray::from(vec![1_700_000_000_123_456])) as _,
            ),
            (
                "ts_utc",
                Arc::new(
                    TimestampMicrosecondArray::from(vec![1_700_000_000_123_456])
                        .with_timezone("UTC"),
                ) as _,
            ),
        ])?;
        let columns = crate::driver::describe(&batch.schema());
        Row::from_batch(&columns, &batch, 0)
    }

    #[test]
    fn uuids_json_and_time_read_and_bind() {
        let row = row().unwrap();
        let id: uuid::Uuid = row.get("id").unwrap();
        assert_eq!(row.get::<uuid::Uuid, _>("id_text").unwrap(), id);
        assert_eq!(Value::from(id), Value::Binary(id.as_bytes().to_vec()));
        let doc: serde_json::Value = row.get("doc").unwrap();
        assert_eq!(doc["a"][1], 2);
        let e = row.get::<serde_json::Value, _>("bad_doc").unwrap_err();
        assert!(e.to_string().contains("not JSON"), "{e}");
        let t: time::PrimitiveDateTime = row.get("ts").unwrap();
        assert_eq!(
            t.assume_utc().unix_timestamp_nanos(),
            1_700_000_000_123_456_000
        );
        let t: time::OffsetDateTime = row.get("ts_utc").unwrap();
        assert_eq!(t.unix_timestamp_nanos(), 1_700_000_000_123_456_000);
        assert_eq!(
            Value::from(t),
            row.get_value("ts_utc").unwrap(),
            "binds back as the same instant"
        );
        let e = row.get::<time::Date, _>("doc").unwrap_err();
        assert!(e.to_string().contains("doc"), "{e}");

        #[derive(FromRow)]
        struct Doc {
            id: uuid::Uuid,
            doc: serde_json::Value,
            ts: time::PrimitiveDateTime,
        }
        let d: Doc = row.read().unwrap();
        assert_eq!(
            (d.id, d.doc["a"][0].as_i64(), d.ts),
            (id, Some(1), t.date().with_time(t.time()))
        );
    }
}

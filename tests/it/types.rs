//! Every Arrow type through the wire into `Value`s.

use std::sync::Arc;

use arrow::array::*;
use arrow::buffer::ScalarBuffer;
use arrow::datatypes::*;
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use dbapi::{Decimal, Value};
use dbapi_flightsql_server::{Options, Server};
use half::f16;

use crate::{execute, registry};

/// Three rows: values, NULLs (for every nullable type), other values.
fn all_types() -> RecordBatch {
    let mut fields: Vec<Field> = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    let mut add = |name: &str, array: ArrayRef| {
        fields.push(Field::new(name, array.data_type().clone(), true));
        columns.push(array);
    };
    add("null", Arc::new(NullArray::new(3)));
    add(
        "bool",
        Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
    );
    add(
        "i8",
        Arc::new(Int8Array::from(vec![Some(i8::MIN), None, Some(i8::MAX)])),
    );
    add(
        "i16",
        Arc::new(Int16Array::from(vec![Some(i16::MIN), None, Some(i16::MAX)])),
    );
    add(
        "i32",
        Arc::new(Int32Array::from(vec![Some(i32::MIN), None, Some(i32::MAX)])),
    );
    add(
        "i64",
        Arc::new(Int64Array::from(vec![Some(i64::MIN), None, Some(i64::MAX)])),
    );
    add(
        "u8",
        Arc::new(UInt8Array::from(vec![Some(0), None, Some(u8::MAX)])),
    );
    add(
        "u16",
        Arc::new(UInt16Array::from(vec![Some(0), None, Some(u16::MAX)])),
    );
    add(
        "u32",
        Arc::new(UInt32Array::from(vec![Some(0), None, Some(u32::MAX)])),
    );
    add(
        "u64",
        Arc::new(UInt64Array::from(vec![Some(0), None, Some(u64::MAX)])),
    );
    add(
        "f16",
        Arc::new(Float16Array::from(vec![
            Some(f16::from_f32(1.5)),
            None,
            Some(f16::MAX),
        ])),
    );
    add(
        "f32",
        Arc::new(Float32Array::from(vec![Some(-0.25), None, Some(f32::MAX)])),
    );
    add(
        "f64",
        Arc::new(Float64Array::from(vec![
            Some(std::f64::consts::PI),
            None,
            Some(f64::MIN_POSITIVE),
        ])),
    );
    add(
        "dec128",
        Arc::new(
            Decimal128Array::from(vec![
                Some(12_345_678_901_234_567_890_123_456_789_i128),
                None,
                Some(-1),
            ])
            .with_precision_and_scale(38, 10)
            .unwrap(),
        ),
    );
    add(
        "dec256",
        Arc::new(
            Decimal256Array::from(vec![
                Some(i256::from_i128(i128::MAX) * i256::from_i128(10)),
                None,
                Some(i256::from_i128(5)),
            ])
            .with_precision_and_scale(76, 3)
            .unwrap(),
        ),
    );
    add(
        "utf8",
        Arc::new(StringArray::from(vec![Some("héllo"), None, Some("")])),
    );
    add(
        "large_utf8",
        Arc::new(LargeStringArray::from(vec![Some("large"), None, Some("x")])),
    );
    add(
        "utf8_view",
        Arc::new(StringViewArray::from(vec![
            Some("a view string longer than twelve bytes"),
            None,
            Some("short"),
        ])),
    );
    add(
        "binary",
        Arc::new(BinaryArray::from(vec![
            Some(&b"\x00\x01"[..]),
            None,
            Some(&b""[..]),
        ])),
    );
    add(
        "large_binary",
        Arc::new(LargeBinaryArray::from(vec![
            Some(&b"\xff"[..]),
            None,
            Some(&b"z"[..]),
        ])),
    );
    add(
        "binary_view",
        Arc::new(BinaryViewArray::from(vec![
            Some(&b"bytes"[..]),
            None,
            Some(&b""[..]),
        ])),
    );
    add(
        "fixed_binary",
        Arc::new(
            FixedSizeBinaryArray::try_from_sparse_iter_with_size(
                vec![Some(vec![1_u8, 2, 3]), None, Some(vec![4, 5, 6])].into_iter(),
                3,
            )
            .unwrap(),
        ),
    );
    add(
        "date32",
        Arc::new(Date32Array::from(vec![Some(19_723), None, Some(-1)])),
    );
    add(
        "date64",
        Arc::new(Date64Array::from(vec![
            Some(86_400_000 * 19_723),
            None,
            Some(0),
        ])),
    );
    add(
        "time32s",
        Arc::new(Time32SecondArray::from(vec![Some(3_661), None, Some(0)])),
    );
    add(
        "time32ms",
        Arc::new(Time32MillisecondArray::from(vec![
            Some(3_661_001),
            None,
            Some(0),
        ])),
    );
    add(
        "time64us",
        Arc::new(Time64MicrosecondArray::from(vec![
            Some(3_661_000_001),
            None,
            Some(0),
        ])),
    );
    add(
        "time64ns",
        Arc::new(Time64NanosecondArray::from(vec![
            Some(3_661_000_000_001),
            None,
            Some(0),
        ])),
    );
    add(
        "ts_s",
        Arc::new(TimestampSecondArray::from(vec![
            Some(1_700_000_000),
            None,
            Some(-1),
        ])),
    );
    add(
        "ts_ms",
        Arc::new(TimestampMillisecondArray::from(vec![
            Some(1_700_000_000_123),
            None,
            Some(0),
        ])),
    );
    add(
        "ts_us",
        Arc::new(TimestampMicrosecondArray::from(vec![
            Some(1_700_000_000_123_456),
            None,
            Some(0),
        ])),
    );
    add(
        "ts_ns",
        Arc::new(TimestampNanosecondArray::from(vec![
            Some(1_700_000_000_123_456_789),
            None,
            Some(0),
        ])),
    );
    add(
        "ts_ns_utc",
        Arc::new(
            TimestampNanosecondArray::from(vec![Some(1_700_000_000_000_000_001), None, Some(0)])
                .with_timezone("UTC"),
        ),
    );
    add(
        "ts_ms_paris",
        Arc::new(
            TimestampMillisecondArray::from(vec![Some(1_700_000_000_000), None, Some(0)])
                .with_timezone("Europe/Paris"),
        ),
    );
    add(
        "ts_s_offset",
        Arc::new(
            TimestampSecondArray::from(vec![Some(1_700_000_000), None, Some(0)])
                .with_timezone("+02:00"),
        ),
    );
    add(
        "dur_s",
        Arc::new(DurationSecondArray::from(vec![
            Some(-5),
            None,
            Some(86_400),
        ])),
    );
    add(
        "dur_ms",
        Arc::new(DurationMillisecondArray::from(vec![
            Some(1_500),
            None,
            Some(0),
        ])),
    );
    add(
        "dur_us",
        Arc::new(DurationMicrosecondArray::from(vec![
            Some(1_000_001),
            None,
            Some(0),
        ])),
    );
    add(
        "dur_ns",
        Arc::new(DurationNanosecondArray::from(vec![
            Some(1_000_000_001),
            None,
            Some(0),
        ])),
    );
    add(
        "iv_ym",
        Arc::new(IntervalYearMonthArray::from(vec![Some(14), None, Some(-1)])),
    );
    add(
        "iv_dt",
        Arc::new(IntervalDayTimeArray::from(vec![
            Some(IntervalDayTime::new(3, 4_000)),
            None,
            Some(IntervalDayTime::ZERO),
        ])),
    );
    add(
        "iv_mdn",
        Arc::new(IntervalMonthDayNanoArray::from(vec![
            Some(IntervalMonthDayNano::new(1, 2, 3)),
            None,
            Some(IntervalMonthDayNano::ZERO),
        ])),
    );
    add(
        "list",
        Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
            None,
            Some(vec![]),
        ])),
    );
    add(
        "large_list",
        Arc::new(LargeListArray::from_iter_primitive::<Int64Type, _, _>(
            vec![Some(vec![Some(7)]), None, Some(vec![None])],
        )),
    );
    add(
        "fixed_list",
        Arc::new(FixedSizeListArray::from_iter_primitive::<Int16Type, _, _>(
            vec![
                Some(vec![Some(1), Some(2)]),
                None,
                Some(vec![Some(3), None]),
            ],
            2,
        )),
    );
    let struct_fields = Fields::from(vec![
        Field::new("a", DataType::Int32, true),
        Field::new("b", DataType::Utf8, true),
    ]);
    add(
        "struct",
        Arc::new(StructArray::new(
            struct_fields,
            vec![
                Arc::new(Int32Array::from(vec![Some(1), None, Some(3)])) as ArrayRef,
                Arc::new(StringArray::from(vec![Some("x"), None, None])),
            ],
            Some(vec![true, false, true].into()),
        )),
    );
    let mut map = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
    map.keys().append_value("k1");
    map.values().append_value(1);
    map.keys().append_value("k2");
    map.values().append_null();
    map.append(true).unwrap();
    map.append(false).unwrap();
    map.append(true).unwrap();
    add("map", Arc::new(map.finish()));
    let dict: DictionaryArray<Int32Type> =
        vec![Some("red"), None, Some("red")].into_iter().collect();
    add("dict", Arc::new(dict));
    let dict16: DictionaryArray<UInt16Type> = vec![Some("blue"), None, Some("green")]
        .into_iter()
        .collect();
    add("dict_u16", Arc::new(dict16));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// Unions, run-end encoded and list-view columns, in a table of their own.
fn extra_types() -> RecordBatch {
    let union_fields = UnionFields::try_new(
        vec![0, 1],
        vec![
            Field::new("i", DataType::Int32, true),
            Field::new("s", DataType::Utf8, true),
        ],
    )
    .unwrap();
    let union = UnionArray::try_new(
        union_fields,
        ScalarBuffer::from(vec![0_i8, 1, 0]),
        Some(ScalarBuffer::from(vec![0_i32, 0, 1])),
        vec![
            Arc::new(Int32Array::from(vec![Some(42), None])) as ArrayRef,
            Arc::new(StringArray::from(vec!["u"])),
        ],
    )
    .unwrap();
    let ree = RunArray::<Int32Type>::try_new(
        &Int32Array::from(vec![2, 3]),
        &StringArray::from(vec![Some("run"), None]),
    )
    .unwrap();
    let list_view = ListViewArray::new(
        Arc::new(Field::new_list_field(DataType::Int32, true)),
        ScalarBuffer::from(vec![0_i32, 0, 1]),
        ScalarBuffer::from(vec![2_i32, 0, 1]),
        Arc::new(Int32Array::from(vec![Some(8), Some(9)])),
        Some(vec![true, false, true].into()),
    );
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("union", Arc::new(union)),
        ("ree", Arc::new(ree)),
        ("list_view", Arc::new(list_view)),
    ];
    RecordBatch::try_from_iter(columns).unwrap()
}

fn expected_row0() -> Vec<(&'static str, Value)> {
    let ts = |s: i64, ns: u32| DateTime::<Utc>::from_timestamp(s, ns).unwrap();
    vec![
        ("null", Value::Null),
        ("bool", Value::Bool(true)),
        ("i8", Value::Int8(i8::MIN)),
        ("i16", Value::Int16(i16::MIN)),
        ("i32", Value::Int32(i32::MIN)),
        ("i64", Value::Int64(i64::MIN)),
        ("u8", Value::UInt8(0)),
        ("u16", Value::UInt16(0)),
        ("u32", Value::UInt32(0)),
        ("u64", Value::UInt64(0)),
        ("f16", Value::Float16(f16::from_f32(1.5))),
        ("f32", Value::Float32(-0.25)),
        ("f64", Value::Float64(std::f64::consts::PI)),
        (
            "dec128",
            Value::from(Decimal::from_i128(
                12_345_678_901_234_567_890_123_456_789,
                38,
                10,
            )),
        ),
        (
            "dec256",
            Value::from(Decimal::new(
                i256::from_i128(i128::MAX) * i256::from_i128(10),
                76,
                3,
            )),
        ),
        ("utf8", Value::String("héllo".into())),
        ("large_utf8", Value::String("large".into())),
        (
            "utf8_view",
            Value::String("a view string longer than twelve bytes".into()),
        ),
        ("binary", Value::Binary(vec![0, 1])),
        ("large_binary", Value::Binary(vec![0xff])),
        ("binary_view", Value::Binary(b"bytes".to_vec())),
        ("fixed_binary", Value::Binary(vec![1, 2, 3])),
        (
            "date32",
            Value::Date(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()),
        ),
        (
            "date64",
            Value::Date(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()),
        ),
        (
            "time32s",
            Value::Time(NaiveTime::from_hms_opt(1, 1, 1).unwrap()),
        ),
        (
            "time32ms",
            Value::Time(NaiveTime::from_hms_milli_opt(1, 1, 1, 1).unwrap()),
        ),
        (
            "time64us",
            Value::Time(NaiveTime::from_hms_micro_opt(1, 1, 1, 1).unwrap()),
        ),
        (
            "time64ns",
            Value::Time(NaiveTime::from_hms_nano_opt(1, 1, 1, 1).unwrap()),
        ),
        ("ts_s", Value::Timestamp(ts(1_700_000_000, 0).naive_utc())),
        (
            "ts_ms",
            Value::Timestamp(ts(1_700_000_000, 123_000_000).naive_utc()),
        ),
        (
            "ts_us",
            Value::Timestamp(ts(1_700_000_000, 123_456_000).naive_utc()),
        ),
        (
            "ts_ns",
            Value::Timestamp(ts(1_700_000_000, 123_456_789).naive_utc()),
        ),
        (
            "ts_ns_utc",
            Value::TimestampTz(ts(1_700_000_000, 1), Arc::from("UTC")),
        ),
        (
            "ts_ms_paris",
            Value::TimestampTz(ts(1_700_000_000, 0), Arc::from("Europe/Paris")),
        ),
        (
            "ts_s_offset",
            Value::TimestampTz(ts(1_700_000_000, 0), Arc::from("+02:00")),
        ),
        ("dur_s", Value::Duration(TimeDelta::seconds(-5))),
        ("dur_ms", Value::Duration(TimeDelta::milliseconds(1_500))),
        (
            "dur_us",
            Value::Duration(TimeDelta::microseconds(1_000_001)),
        ),
        (
            "dur_ns",
            Value::Duration(TimeDelta::nanoseconds(1_000_000_001)),
        ),
        ("iv_ym", Value::IntervalYearMonth(14)),
        (
            "iv_dt",
            Value::IntervalDayTime(IntervalDayTime::new(3, 4_000)),
        ),
        (
            "iv_mdn",
            Value::IntervalMonthDayNano(IntervalMonthDayNano::new(1, 2, 3)),
        ),
        (
            "list",
            Value::List(vec![Value::Int32(1), Value::Null, Value::Int32(3)]),
        ),
        ("large_list", Value::List(vec![Value::Int64(7)])),
        (
            "fixed_list",
            Value::List(vec![Value::Int16(1), Value::Int16(2)]),
        ),
        (
            "struct",
            Value::Struct(vec![
                ("a".into(), Value::Int32(1)),
                ("b".into(), Value::String("x".into())),
            ]),
        ),
        (
            "map",
            Value::Map(vec![
                (Value::String("k1".into()), Value::Int32(1)),
                (Value::String("k2".into()), Value::Null),
            ]),
        ),
        ("dict", Value::String("red".into())),
        ("dict_u16", Value::String("blue".into())),
    ]
}

async fn types_server() -> Server {
    Server::builder()
        .table("all_types", vec![all_types()])
        .options(Options {
            endpoints: 2,
            ..Options::default()
        })
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_type_arrives_as_the_expected_value() {
    let server = types_server().await;
    let conn = registry().connect(&server.url()).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM all_types").await;
    let rows = cursor.fetchall().await.unwrap();
    assert_eq!(rows.len(), 3);
    let description = cursor.description().unwrap();
    for (i, (name, expected)) in expected_row0().into_iter().enumerate() {
        assert_eq!(description[i].name(), name);
        assert_eq!(rows[0].get_value(name).unwrap(), expected, "column {name}");
    }
    // The source arrays, read directly, give the same values for every row.
    let source = all_types();
    for (r, row) in rows.iter().enumerate() {
        for (c, column) in source.columns().iter().enumerate() {
            assert_eq!(
                &row.values().unwrap()[c],
                &Value::from_arrow(column.as_ref(), r).unwrap(),
                "row {r} column {}",
                source.schema().field(c).name()
            );
        }
    }
}

#[tokio::test]
async fn nulls_in_every_type() {
    let server = types_server().await;
    let conn = registry().connect(&server.url()).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM all_types").await;
    let rows = cursor.fetchall().await.unwrap();
    for (c, value) in rows[1].values().unwrap().iter().enumerate() {
        assert_eq!(
            value,
            &Value::Null,
            "column {}",
            rows[1].columns()[c].name()
        );
    }
    let v: Option<i64> = rows[1].get("i64").unwrap();
    assert_eq!(v, None);
    let e = rows[1].get::<i64, _>("i64").unwrap_err();
    assert!(e.to_string().contains("Null"), "{e}");
}

#[tokio::test]
async fn typed_access_over_the_wire() {
    let server = types_server().await;
    let conn = registry().connect(&server.url()).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM all_types").await;
    let row = cursor.fetchone().await.unwrap().unwrap();
    assert_eq!(row.get::<i64, _>("i8").unwrap(), -128);
    assert_eq!(row.get::<u64, _>("u64").unwrap(), 0);
    assert_eq!(row.get::<f64, _>("f32").unwrap(), -0.25);
    assert_eq!(row.get::<String, _>("utf8").unwrap(), "héllo");
    assert_eq!(
        row.get::<Decimal, _>("dec128").unwrap().to_string(),
        "1234567890123456789.0123456789"
    );
    assert_eq!(
        row.get::<DateTime<Utc>, _>("ts_ns_utc")
            .unwrap()
            .timestamp_nanos_opt(),
        Some(1_700_000_000_000_000_001)
    );
    let e = row.get::<i32, _>("utf8").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("utf8") && msg.contains("String") && msg.contains("i32"),
        "{msg}"
    );
}

#[tokio::test]
async fn unions_run_ends_and_list_views_decode() {
    let server = Server::builder()
        .table("extra_types", vec![extra_types()])
        .start()
        .await
        .unwrap();
    let conn = registry().connect(&server.url()).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM extra_types").await;
    let rows = cursor.fetchall().await.unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].get_value("union").unwrap(), Value::Int32(42));
    assert_eq!(
        rows[1].get_value("union").unwrap(),
        Value::String("u".into())
    );
    assert_eq!(rows[2].get_value("union").unwrap(), Value::Null);
    assert_eq!(
        rows[1].get_value("ree").unwrap(),
        Value::String("run".into())
    );
    assert_eq!(rows[2].get_value("ree").unwrap(), Value::Null);
    assert_eq!(
        rows[0].get_value("list_view").unwrap(),
        Value::List(vec![Value::Int32(8), Value::Int32(9)])
    );
    assert_eq!(rows[1].get_value("list_view").unwrap(), Value::Null);
    assert_eq!(
        rows[2].get_value("list_view").unwrap(),
        Value::List(vec![Value::Int32(9)])
    );
}

/// Every mapped type read through `#[derive(FromRow)]`, each field straight from its array.
#[derive(Debug, Default, PartialEq, dbapi::FromRow)]
struct AllTypes {
    null: Option<Value>,
    bool: Option<bool>,
    i8: Option<i8>,
    i16: Option<i16>,
    i32: Option<i32>,
    i64: Option<i64>,
    u8: Option<u8>,
    u16: Option<u16>,
    u32: Option<u32>,
    u64: Option<u64>,
    f16: Option<f16>,
    f32: Option<f32>,
    f64: Option<f64>,
    dec128: Option<Decimal>,
    dec256: Option<Decimal>,
    utf8: Option<String>,
    large_utf8: Option<String>,
    utf8_view: Option<String>,
    binary: Option<Vec<u8>>,
    large_binary: Option<Vec<u8>>,
    binary_view: Option<Vec<u8>>,
    fixed_binary: Option<Vec<u8>>,
    date32: Option<NaiveDate>,
    date64: Option<NaiveDate>,
    time32s: Option<NaiveTime>,
    time32ms: Option<NaiveTime>,
    time64us: Option<NaiveTime>,
    time64ns: Option<NaiveTime>,
    ts_s: Option<chrono::NaiveDateTime>,
    ts_ms: Option<chrono::NaiveDateTime>,
    ts_us: Option<chrono::NaiveDateTime>,
    ts_ns: Option<chrono::NaiveDateTime>,
    ts_ns_utc: Option<DateTime<Utc>>,
    ts_ms_paris: Option<DateTime<Utc>>,
    ts_s_offset: Option<DateTime<Utc>>,
    dur_s: Option<TimeDelta>,
    dur_ms: Option<TimeDelta>,
    dur_us: Option<TimeDelta>,
    dur_ns: Option<TimeDelta>,
    iv_ym: Option<Value>,
    iv_dt: Option<Value>,
    iv_mdn: Option<Value>,
    list: Option<Vec<Value>>,
    large_list: Option<Vec<Value>>,
    fixed_list: Option<Vec<Value>>,
    #[dbapi(rename = "struct")]
    a_struct: Option<Value>,
    map: Option<Value>,
    dict: Option<String>,
    dict_u16: Option<String>,
    #[dbapi(default)]
    absent: Option<i64>,
}

#[tokio::test]
async fn from_row_reads_every_type_as_the_value_layer_does() {
    let server = types_server().await;
    let conn = registry().connect(&server.url()).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM all_types").await;
    let typed: Vec<AllTypes> = dbapi::CursorExt::fetchall_typed(cursor.as_mut())
        .await
        .unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM all_types").await;
    let rows = cursor.fetchall().await.unwrap();
    assert_eq!(typed.len(), rows.len());
    for (row, t) in rows.iter().zip(&typed) {
        // The same row through `Row::read` and field by field through `Row::get`.
        assert_eq!(&row.read::<AllTypes>().unwrap(), t);
        assert_eq!(t.i64, row.get("i64").unwrap());
        assert_eq!(t.utf8_view, row.get("utf8_view").unwrap());
        assert_eq!(t.ts_ns, row.get("ts_ns").unwrap());
        assert_eq!(t.ts_ms_paris, row.get("ts_ms_paris").unwrap());
        assert_eq!(t.dec256, row.get("dec256").unwrap());
        assert_eq!(t.a_struct, row.get("struct").unwrap());
        assert_eq!(t.absent, None);
    }
    assert_eq!(typed[0].i8, Some(i8::MIN));
    assert_eq!(typed[1], AllTypes::default(), "a row of NULLs");
    // Tuples and tuple structs by position; the errors name field, column and types.
    #[derive(Debug, dbapi::FromRow)]
    struct Pair(i64, #[allow(dead_code)] String);
    let mut cursor = execute(
        conn.as_ref(),
        "SELECT i64, utf8 FROM all_types WHERE i64 IS NOT NULL",
    )
    .await;
    let pairs: Vec<Pair> = dbapi::CursorExt::fetchall_typed(cursor.as_mut())
        .await
        .unwrap();
    assert_eq!(pairs[0].0, i64::MIN);
    let mut cursor = execute(conn.as_ref(), "SELECT i64 FROM all_types").await;
    let e = dbapi::CursorExt::fetchall_typed::<(i64,)>(cursor.as_mut())
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains(r#"field `0` (column 0 "i64")"#) && text.contains("Null"),
        "{text}"
    );
    #[derive(Debug, dbapi::FromRow)]
    struct Missing {
        #[allow(dead_code)]
        nope: i64,
    }
    let mut cursor = execute(conn.as_ref(), "SELECT i64 FROM all_types").await;
    let e = dbapi::CursorExt::fetchall_typed::<Missing>(cursor.as_mut())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), dbapi::ErrorKind::Programming);
    assert!(e.to_string().contains("field `nope` has no column"), "{e}");
}

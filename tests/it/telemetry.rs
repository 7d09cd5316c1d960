//! OpenTelemetry (feature `opentelemetry`): statement spans by the database client semantic
//! conventions, children of the caller's span, the `traceparent` the server sees, and the
//! metrics, read back through the SDK's in-memory exporters.

use std::sync::OnceLock;

use dbapi::{Params, params};
use dbapi_flightsql_server::{AnswerFaults, Options, StreamFaults};
use opentelemetry::KeyValue;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};

use crate::{faulty, registry, server};

/// The process's providers, installed once: the spans and metrics of every test go there, so
/// each test picks its own by the server's port.
struct Exporters {
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricExporter,
    meter: SdkMeterProvider,
}

fn exporters() -> &'static Exporters {
    static EXPORTERS: OnceLock<Exporters> = OnceLock::new();
    EXPORTERS.get_or_init(|| {
        let spans = InMemorySpanExporter::default();
        let tracer = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        opentelemetry::global::set_tracer_provider(tracer);
        let metrics = InMemoryMetricExporter::default();
        let meter = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        opentelemetry::global::set_meter_provider(meter.clone());
        Exporters {
            spans,
            metrics,
            meter,
        }
    })
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a opentelemetry::Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// The spans of statements sent to `port`.
fn spans_to(port: u16) -> Vec<SpanData> {
    exporters()
        .spans
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .filter(|s| attribute(s, "server.port").map(ToString::to_string) == Some(port.to_string()))
        .collect()
}

/// The sum of a counter's points, or the count of a histogram's, whose attributes include
/// `with` (all points when `None`).
fn metric_total(name: &str, with: Option<&KeyValue>) -> u64 {
    let exporters = exporters();
    exporters.meter.force_flush().unwrap();
    let mut total = 0;
    let finished = exporters.metrics.get_finished_metrics().unwrap();
    // Cumulative: the last export holds the totals.
    let Some(last) = finished.last() else {
        return 0;
    };
    for scope in last.scope_metrics() {
        for metric in scope.metrics().filter(|m| m.name() == name) {
            let matches = |attrs: Vec<&KeyValue>| with.is_none_or(|w| attrs.contains(&w));
            match metric.data() {
                AggregatedMetrics::U64(MetricData::Sum(sum)) => {
                    for point in sum.data_points() {
                        if matches(point.attributes().collect()) {
                            total += point.value();
                        }
                    }
                }
                AggregatedMetrics::F64(MetricData::Histogram(histogram)) => {
                    for point in histogram.data_points() {
                        if matches(point.attributes().collect()) {
                            total += point.count();
                        }
                    }
                }
                _ => {}
            }
        }
    }
    total
}

#[tokio::test]
async fn statement_spans_follow_the_conventions_and_join_the_callers_trace() {
    exporters();
    let server = server(Options::default()).await;
    let port = server.addr().port();
    let url = format!(
        "{}&database=sensors&otel_traceparent=true&otel_query_text=true",
        server.url()
    );
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    let tracer = opentelemetry::global::tracer("caller");
    let parent = tracer
        .span_builder("handle request")
        .start_with_context(&tracer, &opentelemetry::Context::new());
    let parent_cx = opentelemetry::Context::new().with_span(parent);
    let parent_ids = parent_cx.span().span_context().clone();
    async {
        cursor
            .execute(
                "SELECT id FROM numbers WHERE name <> 'hunter2' AND id < $1",
                params![10_i64],
            )
            .await
            .unwrap();
        assert_eq!(cursor.fetchall().await.unwrap().len(), 10);
    }
    .with_context(parent_cx.clone())
    .await;
    // The server saw the statement's span as the parent of its calls, the DoGet included.
    let headers = server.last_headers();
    let traceparent = headers
        .iter()
        .find(|(k, _)| k == "traceparent")
        .map(|(_, v)| v.clone())
        .expect("the last call carried a traceparent");
    let spans = spans_to(port);
    let statement = spans
        .iter()
        .find(|s| s.name == "SELECT numbers")
        .unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(statement.span_kind, SpanKind::Client);
    assert_eq!(
        statement.span_context.trace_id(),
        parent_ids.trace_id(),
        "one trace"
    );
    assert_eq!(statement.parent_span_id, parent_ids.span_id());
    assert_eq!(
        traceparent,
        format!(
            "00-{}-{}-01",
            statement.span_context.trace_id(),
            statement.span_context.span_id()
        )
    );
    let text = |key: &str| attribute(statement, key).map(ToString::to_string);
    assert_eq!(text("db.system.name").as_deref(), Some("other_sql"));
    assert_eq!(text("db.namespace").as_deref(), Some("sensors"));
    assert_eq!(text("db.operation.name").as_deref(), Some("SELECT"));
    assert_eq!(text("db.query.summary").as_deref(), Some("SELECT numbers"));
    assert_eq!(text("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(
        text("db.query.text").as_deref(),
        Some("SELECT id FROM numbers WHERE name <> ? AND id < $1"),
        "literals replaced"
    );
    assert_eq!(text("error.type"), None);
    // A failure: error.type and an error status.
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT * FROM no_such_table", Params::None)
        .await
        .unwrap_err();
    let spans = spans_to(port);
    let failed = spans
        .iter()
        .find(|s| s.name == "SELECT no_such_table")
        .unwrap_or_else(|| panic!("{spans:#?}"));
    assert!(attribute(failed, "error.type").is_some(), "{failed:#?}");
    assert!(matches!(failed.status, Status::Error { .. }), "{failed:#?}");
    // Metrics: statements and their durations, by server; rows and bytes received.
    let on_port = KeyValue::new("server.port", i64::from(port));
    assert_eq!(
        metric_total("db.client.operation.duration", Some(&on_port)),
        2
    );
    assert_eq!(metric_total("dbapi.client.statements", Some(&on_port)), 2);
    assert!(metric_total("dbapi.client.rows_received", None) >= 10);
    assert!(metric_total("dbapi.client.bytes_received", None) > 0);
    // Without otel_traceparent, nothing is sent.
    let quiet = registry().connect(&server.url()).await.unwrap();
    let mut cursor = quiet.cursor().unwrap();
    async { cursor.execute("SELECT 1", Params::None).await.unwrap() }
        .with_context(parent_cx)
        .await;
    assert!(
        !server
            .last_headers()
            .iter()
            .any(|(k, _)| k == "traceparent")
    );
}

#[tokio::test]
async fn retries_are_counted() {
    let before = metric_total("dbapi.client.retries", None);
    let server = server(faulty(
        AnswerFaults {
            unavailable_every: 2,
            ..AnswerFaults::default()
        },
        StreamFaults::default(),
    ))
    .await;
    let conn = registry()
        .connect(&format!("{}&retry_backoff=1ms", server.url()))
        .await
        .unwrap();
    let mut cursor = conn.cursor().unwrap();
    for _ in 0..4 {
        cursor.execute("SELECT 1", Params::None).await.unwrap();
        cursor.fetchall().await.unwrap();
    }
    let retried = server.stats().faults_injected;
    assert!(retried >= 2, "{:?}", server.stats());
    assert!(
        metric_total("dbapi.client.retries", None) >= before + retried,
        "every fault was retried and counted"
    );
}

//! OpenTelemetry (cargo feature `opentelemetry`, off by default): a client span per statement,
//! named and attributed by the database client semantic conventions, the W3C `traceparent`
//! of the current span on every call when asked (`otel_traceparent=true`), and metrics for
//! statements, durations, rows, bytes and retries. The spans and metrics go to the global
//! tracer and meter providers the application installs. Without the feature every function
//! here does nothing.

use std::time::Instant;

use crate::config::Config;

/// The instrumentation scope of the spans and metrics.
#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
const SCOPE: &str = "dbapi-flightsql";

/// The value of `db.system.name`: Flight SQL serves many databases, none of which the
/// conventions name for this protocol.
#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
const SYSTEM: &str = "other_sql";

/// The trace a statement's calls belong to, kept by its cursor for the calls that read its
/// result later.
#[derive(Clone, Default)]
pub(crate) struct Trace {
    #[cfg(feature = "opentelemetry")]
    cx: Option<opentelemetry::Context>,
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Trace")
    }
}

impl Trace {
    /// The trace of the current span (the statement's, while it runs).
    pub(crate) fn current() -> Trace {
        Trace {
            #[cfg(feature = "opentelemetry")]
            cx: Some(opentelemetry::Context::current()),
        }
    }

    /// `future` run with this trace's span current.
    pub(crate) fn bind<F: std::future::Future>(
        &self,
        future: F,
    ) -> impl std::future::Future<Output = F::Output> + use<F> {
        #[cfg(feature = "opentelemetry")]
        {
            use opentelemetry::context::FutureExt;
            future.with_context(
                self.cx
                    .clone()
                    .unwrap_or_else(opentelemetry::Context::current),
            )
        }
        #[cfg(not(feature = "opentelemetry"))]
        future
    }
}

/// The telemetry of one statement, from `execute` to its answer.
pub(crate) struct Statement {
    #[cfg(feature = "opentelemetry")]
    cx: opentelemetry::Context,
    #[cfg(feature = "opentelemetry")]
    attributes: Vec<opentelemetry::KeyValue>,
    #[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
    started: Instant,
}

impl Statement {
    /// Starts the span of a statement, a child of the current span.
    #[cfg_attr(not(feature = "opentelemetry"), allow(unused_variables))]
    pub(crate) fn start(config: &Config, sql: &str) -> Statement {
        #[cfg(feature = "opentelemetry")]
        {
            use opentelemetry::KeyValue;
            use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
            let (operation, summary) = summarize(sql);
            let mut attributes = vec![
                KeyValue::new("db.system.name", SYSTEM),
                KeyValue::new("server.address", config.host().to_owned()),
                KeyValue::new("server.port", i64::from(config.port())),
            ];
            if let Some(database) = config.database() {
                attributes.push(KeyValue::new("db.namespace", database.to_owned()));
            }
            if let Some(operation) = &operation {
                attributes.push(KeyValue::new("db.operation.name", operation.clone()));
            }
            let mut span_attributes = attributes.clone();
            span_attributes.push(KeyValue::new("db.query.summary", summary.clone()));
            if config.otel_query_text() {
                span_attributes.push(KeyValue::new("db.query.text", sanitize(sql)));
            }
            let tracer = opentelemetry::global::tracer(SCOPE);
            let parent = opentelemetry::Context::current();
            let span = tracer
                .span_builder(summary)
                .with_kind(SpanKind::Client)
                .with_attributes(span_attributes)
                .start_with_context(&tracer, &parent);
            Statement {
                cx: parent.with_span(span),
                attributes,
                started: Instant::now(),
            }
        }
        #[cfg(not(feature = "opentelemetry"))]
        Statement {
            started: Instant::now(),
        }
    }

    /// The statement's trace: calls made under it carry its `traceparent`.
    pub(crate) fn trace(&self) -> Trace {
        Trace {
            #[cfg(feature = "opentelemetry")]
            cx: Some(self.cx.clone()),
        }
    }

    /// Ends the span with the statement's outcome (`error.type` and an error status for a
    /// failure), and records its duration.
    #[cfg_attr(not(feature = "opentelemetry"), allow(unused_variables))]
    pub(crate) fn end<T>(self, outcome: &dbapi::Result<T>) {
        #[cfg(feature = "opentelemetry")]
        {
            use opentelemetry::KeyValue;
            use opentelemetry::trace::{Status, TraceContextExt};
            let mut attributes = self.attributes;
            let span = self.cx.span();
            if let Err(e) = outcome {
                let kind = error_type(e);
                span.set_attribute(KeyValue::new("error.type", kind.clone()));
                if let Some(code) = e.code() {
                    span.set_attribute(KeyValue::new("db.response.status_code", code.to_owned()));
                }
                span.set_status(Status::error(e.kind().to_string()));
                attributes.push(KeyValue::new("error.type", kind));
            }
            span.end();
            let meter = opentelemetry::global::meter(SCOPE);
            meter
                .f64_histogram("db.client.operation.duration")
                .with_unit("s")
                .with_description("Duration of database client operations")
                .build()
                .record(self.started.elapsed().as_secs_f64(), &attributes);
            meter
                .u64_counter("dbapi.client.statements")
                .with_description("Statements executed")
                .build()
                .add(1, &attributes);
        }
    }
}

/// The W3C `traceparent` (and `tracestate`) of the current span, when the configuration asks
/// for it and there is one.
#[cfg_attr(not(feature = "opentelemetry"), allow(unused_variables))]
pub(crate) fn trace_headers(config: &Config) -> Option<(String, Option<String>)> {
    #[cfg(feature = "opentelemetry")]
    {
        use opentelemetry::trace::TraceContextExt;
        if !config.otel_traceparent() {
            return None;
        }
        let cx = opentelemetry::Context::current();
        let span = cx.span();
        let context = span.span_context();
        if !context.is_valid() {
            return None;
        }
        let parent = format!(
            "00-{}-{}-{:02x}",
            context.trace_id(),
            context.span_id(),
            context.trace_flags().to_u8()
        );
        let state = context.trace_state().header();
        Some((parent, (!state.is_empty()).then_some(state)))
    }
    #[cfg(not(feature = "opentelemetry"))]
    None
}

/// Records the rows and bytes one result stream received (when it ends).
#[cfg_attr(not(feature = "opentelemetry"), allow(unused_variables))]
pub(crate) fn received(rows: u64, bytes: u64) {
    #[cfg(feature = "opentelemetry")]
    if rows > 0 || bytes > 0 {
        let meter = opentelemetry::global::meter(SCOPE);
        let system = [opentelemetry::KeyValue::new("db.system.name", SYSTEM)];
        meter
            .u64_counter("dbapi.client.rows_received")
            .with_description("Rows received in result streams")
            .build()
            .add(rows, &system);
        meter
            .u64_counter("dbapi.client.bytes_received")
            .with_unit("By")
            .with_description("Bytes of Arrow IPC messages received in result streams")
            .build()
            .add(bytes, &system);
    }
}

/// Records a retry of a call (`what`) after a transient failure.
#[cfg_attr(not(feature = "opentelemetry"), allow(unused_variables))]
pub(crate) fn retried(what: &str) {
    #[cfg(feature = "opentelemetry")]
    opentelemetry::global::meter(SCOPE)
        .u64_counter("dbapi.client.retries")
        .with_description("Calls retried after a transient failure")
        .build()
        .add(
            1,
            &[
                opentelemetry::KeyValue::new("db.system.name", SYSTEM),
                opentelemetry::KeyValue::new("dbapi.call", what.to_owned()),
            ],
        );
}

/// `error.type` of an error: its gRPC status code when the server sent one, else its PEP 249
/// kind.
#[cfg(feature = "opentelemetry")]
fn error_type(error: &dbapi::Error) -> String {
    match error.code() {
        Some(code) => code.to_owned(),
        None => error.kind().to_string(),
    }
}

/// The operation (`SELECT`, `INSERT`, …) of a statement and its summary: the operation and
/// the first table named (`SELECT numbers`), or the operation alone.
#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
pub(crate) fn summarize(sql: &str) -> (Option<String>, String) {
    let text = strip_comments(sql);
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    let Some(first) = words.first() else {
        return (None, SYSTEM.to_owned());
    };
    let operation = first.to_ascii_uppercase();
    if !operation.chars().all(|c| c.is_ascii_alphabetic()) {
        return (None, SYSTEM.to_owned());
    }
    let target = words
        .windows(2)
        .find(|w| {
            ["FROM", "INTO", "UPDATE", "TABLE", "JOIN"]
                .iter()
                .any(|k| w[0].eq_ignore_ascii_case(k))
        })
        .map(|w| w[1])
        .filter(|t| {
            t.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '"'))
        });
    let summary = match target {
        Some(table) => format!("{operation} {table}"),
        None => operation.clone(),
    };
    (Some(operation), summary)
}

fn strip_comments(sql: &str) -> String {
    sql.lines()
        .map(|line| line.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The statement with its literals (strings, numbers) replaced by `?`, so that values in the
/// SQL (passwords given to `CREATE USER`, personal data in a `WHERE`) stay out of traces.
#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
pub(crate) fn sanitize(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut previous: Option<char> = None;
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                // A string literal, `''` escaping a quote inside it.
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                        }
                        Some('\'') | None => break,
                        Some(_) => {}
                    }
                }
                out.push('?');
                previous = Some('?');
            }
            c if c.is_ascii_digit()
                && !previous.is_some_and(|p| p.is_alphanumeric() || matches!(p, '_' | '$')) =>
            {
                while chars
                    .peek()
                    .is_some_and(|d| d.is_ascii_alphanumeric() || *d == '.')
                {
                    chars.next();
                }
                out.push('?');
                previous = Some('?');
            }
            c => {
                out.push(c);
                previous = Some(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_summarized_by_operation_and_first_table() {
        let s = |sql: &str| summarize(sql).1;
        assert_eq!(s("SELECT id FROM numbers WHERE id < 3"), "SELECT numbers");
        assert_eq!(s("  select *\nfrom sensors.cpu"), "SELECT sensors.cpu");
        assert_eq!(s("INSERT INTO t (a) VALUES (1)"), "INSERT t");
        assert_eq!(s("-- note\nDELETE FROM t"), "DELETE t");
        assert_eq!(s("SELECT 1"), "SELECT");
        assert_eq!(s(""), SYSTEM);
        assert_eq!(summarize("SELECT 1").0.as_deref(), Some("SELECT"));
        assert_eq!(summarize("'x'").0, None);
    }

    #[test]
    fn literals_leave_the_query_text() {
        assert_eq!(
            sanitize("SELECT * FROM t2 WHERE name = 'it''s secret' AND id < 42 AND x = $1"),
            "SELECT * FROM t2 WHERE name = ? AND id < ? AND x = $1"
        );
        assert_eq!(
            sanitize("CREATE USER u PASSWORD 'hunter2'"),
            "CREATE USER u PASSWORD ?"
        );
        assert_eq!(sanitize("SELECT 1.5e3, col_1"), "SELECT ?, col_1");
        assert_eq!(sanitize("SELECT 'unterminated"), "SELECT ?");
    }
}

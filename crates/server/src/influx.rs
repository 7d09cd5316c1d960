//! InfluxDB 3's own Flight ticket, as InfluxData documents it and its clients send it: a
//! `DoGet` ticket that is JSON, `{"database", "sql_query", "query_type": "sql" | "influxql",
//! "params": {...}}`. Parameters are named (`$host` → `"host"`) or positional (`$1` → `"1"`),
//! each a JSON null, boolean, number or string.
//!
//! SQL runs as any statement of this server. InfluxQL is answered for the subset that reads
//! as SQL: one `SELECT` (fields, `FROM` a table, `WHERE`, `GROUP BY` of columns, `ORDER BY`,
//! `LIMIT`), `MEAN` read as `avg`; anything else (`SHOW`, `time()` buckets, `fill`, regular
//! expressions, several statements) is refused with `INVALID_ARGUMENT` naming InfluxQL.

use datafusion::common::{ParamValues, ScalarValue};
use serde_json::Value as Json;
use tonic::Status;

/// A parsed ticket.
#[derive(Debug, Clone)]
pub(crate) struct InfluxTicket {
    /// The database the query names.
    pub(crate) database: String,
    /// The query, as SQL this server runs.
    pub(crate) sql: String,
    /// Whether it came as InfluxQL.
    pub(crate) influxql: bool,
    /// Its parameter values.
    pub(crate) params: Option<ParamValues>,
}

/// The ticket, when `bytes` is InfluxDB's JSON ticket (`None`: a Flight SQL ticket).
pub(crate) fn parse(bytes: &[u8]) -> Option<Result<InfluxTicket, Status>> {
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let json: Json = match serde_json::from_slice(bytes) {
        Ok(json) => json,
        Err(e) => {
            return Some(Err(Status::invalid_argument(format!(
                "malformed JSON ticket: {e}"
            ))));
        }
    };
    Some(read(&json))
}

fn read(json: &Json) -> Result<InfluxTicket, Status> {
    let field = |name: &str| {
        json.get(name).and_then(Json::as_str).ok_or_else(|| {
            Status::invalid_argument(format!("the JSON ticket has no string {name:?}"))
        })
    };
    let database = field("database")?.to_owned();
    let query = field("sql_query")?;
    let influxql = match json.get("query_type").and_then(Json::as_str) {
        None | Some("sql") => false,
        Some("influxql") => true,
        Some(other) => {
            return Err(Status::invalid_argument(format!(
                "query_type {other:?}: expected \"sql\" or \"influxql\""
            )));
        }
    };
    let sql = if influxql {
        influxql_as_sql(query)?
    } else {
        query.to_owned()
    };
    let params = match json.get("params") {
        None | Some(Json::Null) => None,
        Some(Json::Object(map)) if map.is_empty() => None,
        Some(Json::Object(map)) => Some(param_values(map)?),
        Some(_) => {
            return Err(Status::invalid_argument(
                "the ticket's params must be an object",
            ));
        }
    };
    Ok(InfluxTicket {
        database,
        sql,
        influxql,
        params,
    })
}

/// By position when every name is a number (`"1"`, `"2"`, ... with none missing), else by
/// name.
fn param_values(map: &serde_json::Map<String, Json>) -> Result<ParamValues, Status> {
    let mut values = Vec::with_capacity(map.len());
    for (name, value) in map {
        values.push((name.clone(), scalar(name, value)?));
    }
    let mut numbered: Vec<(usize, ScalarValue)> = Vec::new();
    for (name, value) in &values {
        match name.parse::<usize>() {
            Ok(n) if n >= 1 => numbered.push((n, value.clone())),
            _ => return Ok(values.into()),
        }
    }
    numbered.sort_by_key(|(n, _)| *n);
    if numbered.iter().enumerate().any(|(i, (n, _))| *n != i + 1) {
        return Err(Status::invalid_argument(
            "positional parameters must be numbered 1, 2, ... without gaps",
        ));
    }
    Ok(numbered
        .into_iter()
        .map(|(_, v)| v)
        .collect::<Vec<_>>()
        .into())
}

fn scalar(name: &str, value: &Json) -> Result<ScalarValue, Status> {
    Ok(match value {
        Json::Null => ScalarValue::Null,
        Json::Bool(b) => ScalarValue::Boolean(Some(*b)),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => ScalarValue::Int64(Some(i)),
            (None, Some(u), _) => ScalarValue::UInt64(Some(u)),
            (None, None, Some(f)) => ScalarValue::Float64(Some(f)),
            _ => {
                return Err(Status::invalid_argument(format!(
                    "parameter {name:?}: number {n} out of range"
                )));
            }
        },
        Json::String(s) => ScalarValue::Utf8(Some(s.clone())),
        Json::Array(_) | Json::Object(_) => {
            return Err(Status::invalid_argument(format!(
                "parameter {name:?}: expected null, a boolean, a number or a string"
            )));
        }
    })
}

/// The InfluxQL subset this server answers, as SQL (see the module documentation).
fn influxql_as_sql(query: &str) -> Result<String, Status> {
    let refuse = |why: &str| {
        Status::invalid_argument(format!(
            "InfluxQL {why}: this server answers one SELECT that also reads as SQL"
        ))
    };
    let trimmed = query.trim().trim_end_matches(';').trim();
    if trimmed.contains(';') {
        return Err(refuse("with several statements"));
    }
    let lower = trimmed.to_ascii_lowercase();
    if !lower.starts_with("select ") {
        return Err(refuse("other than SELECT"));
    }
    for (what, word) in [
        ("time() buckets", "time("),
        ("fill()", "fill("),
        ("regular expressions", "=~"),
        ("regular expressions", "!~"),
        ("SLIMIT/SOFFSET", "slimit"),
        ("SLIMIT/SOFFSET", "soffset"),
        ("INTO", " into "),
    ] {
        if lower.contains(word) {
            return Err(refuse(&format!("with {what}")));
        }
    }
    Ok(replace_word(trimmed, "mean", "avg"))
}

/// `text` with each whole word `word` (lower case; matched in any case) followed by `(`
/// replaced by `with`.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    // ASCII lower-casing keeps every byte offset, so offsets in `lower` are offsets in `text`.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, _) in lower.match_indices(word) {
        let before_ok = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let call = text[at + word.len()..].trim_start().starts_with('(');
        if before_ok && call {
            out.push_str(&text[copied..at]);
            out.push_str(with);
            copied = at + word.len();
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(json: &str) -> Result<InfluxTicket, Status> {
        parse(json.as_bytes()).expect("a JSON ticket")
    }

    #[test]
    fn tickets_are_told_from_flight_sql_ones_and_read() {
        assert!(parse(b"\x0a\x05hello").is_none());
        let t = ticket(
            r#"{"database":"db","sql_query":"SELECT $host","query_type":"sql","params":{"host":"a"}}"#,
        )
        .unwrap();
        assert_eq!(t.database, "db");
        assert!(!t.influxql);
        assert_eq!(
            format!("{:?}", t.params),
            format!(
                "{:?}",
                Some(ParamValues::from(vec![(
                    "host".to_owned(),
                    ScalarValue::Utf8(Some("a".into()))
                )]))
            )
        );
        let t =
            ticket(r#"{"database":"db","sql_query":"SELECT $1, $2","params":{"2":1.5,"1":null}}"#)
                .unwrap();
        assert_eq!(
            format!("{:?}", t.params),
            format!(
                "{:?}",
                Some(ParamValues::from(vec![
                    ScalarValue::Null,
                    ScalarValue::Float64(Some(1.5))
                ]))
            )
        );
        for bad in [
            r#"{"database":"db"}"#,
            r#"{"database":"db","sql_query":"x","query_type":"flux"}"#,
            r#"{"database":"db","sql_query":"x","params":{"1":1,"3":2}}"#,
            r#"{"database":"db","sql_query":"x","params":{"a":[1]}}"#,
            r#"{"database":"db","sql_query":"x","params":[1]}"#,
            r#"{"database":"#,
        ] {
            let e = ticket(bad).unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn influxql_is_answered_for_the_subset_that_reads_as_sql() {
        let t = ticket(
            r#"{"database":"db","sql_query":"SELECT MEAN(usage), meaning FROM cpu WHERE host = $host;","query_type":"influxql"}"#,
        )
        .unwrap();
        assert!(t.influxql);
        assert_eq!(
            t.sql,
            "SELECT avg(usage), meaning FROM cpu WHERE host = $host"
        );
        for bad in [
            "SHOW MEASUREMENTS",
            "SELECT mean(usage) FROM cpu GROUP BY time(1m)",
            "SELECT * FROM cpu WHERE host =~ /a/",
            "SELECT 1; SELECT 2",
        ] {
            let json =
                serde_json::json!({"database": "db", "sql_query": bad, "query_type": "influxql"});
            let e = ticket(&json.to_string()).unwrap_err();
            assert!(e.message().contains("InfluxQL"), "{bad}: {}", e.message());
        }
    }
}

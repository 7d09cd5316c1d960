//! InfluxDB 3's own Flight ticket: a `DoGet` whose ticket is JSON naming the database, the
//! query, its language (`sql`, `influxql`) and its parameters, as InfluxData's own clients
//! send it. InfluxDB binds parameters there (named `$host`, positional `$1` as `"1"`), which
//! its Flight SQL prepared statements do not.

use arrow_flight::Ticket;
use dbapi::{Error, Params, Result, Value};
use serde_json::{Map, Number, Value as Json};

use crate::config::QueryLanguage;

/// The ticket of `query` on `database` with `params`.
///
/// # Errors
/// A [`NotSupported`](dbapi::ErrorKind::NotSupported) error naming a parameter whose value
/// the ticket cannot carry (see [`json_value`]).
pub(crate) fn ticket(
    database: &str,
    query: &str,
    language: QueryLanguage,
    params: &Params,
) -> Result<Ticket> {
    let mut ticket = Map::new();
    ticket.insert("database".into(), Json::String(database.to_owned()));
    ticket.insert("sql_query".into(), Json::String(query.to_owned()));
    ticket.insert("query_type".into(), Json::String(language.as_str().into()));
    let params = json_params(params)?;
    if !params.is_empty() {
        ticket.insert("params".into(), Json::Object(params));
    }
    let bytes = serde_json::to_vec(&Json::Object(ticket))
        .map_err(|e| Error::internal(format!("writing the InfluxDB ticket: {e}")))?;
    Ok(Ticket::new(bytes))
}

/// The parameters by name: positional ones as `"1"`, `"2"`, ... (InfluxDB's `$1`, `$2`),
/// named ones without their sigil.
fn json_params(params: &Params) -> Result<Map<String, Json>> {
    let mut out = Map::new();
    match params {
        Params::None => {}
        Params::Positional(values) => {
            for (i, value) in values.iter().enumerate() {
                let name = (i + 1).to_string();
                let json = json_value(value, &name)?;
                out.insert(name, json);
            }
        }
        Params::Named(values) => {
            for (name, value) in values {
                let name = name.trim_start_matches(['$', ':', '@']);
                if name.is_empty() {
                    return Err(Error::programming("a named parameter without a name"));
                }
                if out.contains_key(name) {
                    return Err(Error::programming(format!(
                        "parameter ${name} is given twice"
                    )));
                }
                out.insert(name.to_owned(), json_value(value, name)?);
            }
        }
        _ => {
            return Err(Error::not_supported(
                "this kind of parameters through InfluxDB's ticket: give them by position or \
                 by name",
            ));
        }
    }
    Ok(out)
}

/// A parameter value as the ticket carries it: JSON null, booleans, numbers and strings;
/// dates and times as ISO 8601 text (which InfluxDB compares with `time`). Other types
/// (decimals, binary, durations, intervals, lists, structs) and non-finite floats are refused.
fn json_value(value: &Value, name: &str) -> Result<Json> {
    let float = |f: f64| {
        Number::from_f64(f).map(Json::Number).ok_or_else(|| {
            Error::not_supported(format!(
                "parameter ${name}: {f} through InfluxDB's ticket (JSON has no such number)"
            ))
        })
    };
    Ok(match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int8(n) => Json::from(*n),
        Value::Int16(n) => Json::from(*n),
        Value::Int32(n) => Json::from(*n),
        Value::Int64(n) => Json::from(*n),
        Value::UInt8(n) => Json::from(*n),
        Value::UInt16(n) => Json::from(*n),
        Value::UInt32(n) => Json::from(*n),
        Value::UInt64(n) => Json::from(*n),
        Value::Float16(f) => float(f64::from(*f))?,
        Value::Float32(f) => float(f64::from(*f))?,
        Value::Float64(f) => float(*f)?,
        Value::String(s) => Json::String(s.clone()),
        Value::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
        Value::Time(t) => Json::String(t.format("%H:%M:%S%.f").to_string()),
        Value::Timestamp(t) => Json::String(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
        Value::TimestampTz(t, _) => Json::String(t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string()),
        other => {
            return Err(Error::not_supported(format!(
                "parameter ${name}: a {} value through InfluxDB's ticket, which carries \
                 JSON null, booleans, numbers, text, dates and times (bind it as text or as a \
                 number)",
                other.type_name()
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(ticket: &Ticket) -> Json {
        serde_json::from_slice(&ticket.ticket).unwrap()
    }

    #[test]
    fn tickets_carry_database_query_language_and_parameters() {
        let t = ticket(
            "sensors",
            "SELECT * FROM cpu WHERE host = $host AND usage > $min",
            QueryLanguage::Sql,
            &Params::Named(vec![
                ("$host".into(), Value::String("a".into())),
                ("min".into(), Value::Float64(0.5)),
            ]),
        )
        .unwrap();
        assert_eq!(
            json(&t),
            serde_json::json!({
                "database": "sensors",
                "sql_query": "SELECT * FROM cpu WHERE host = $host AND usage > $min",
                "query_type": "sql",
                "params": {"host": "a", "min": 0.5},
            })
        );
        let t = ticket(
            "db",
            "SELECT MEAN(usage) FROM cpu WHERE host = $1",
            QueryLanguage::InfluxQl,
            &Params::Positional(vec![
                Value::String("b".into()),
                Value::Int64(-3),
                Value::Null,
                Value::Bool(true),
                Value::Date("2024-01-02".parse().unwrap()),
            ]),
        )
        .unwrap();
        let j = json(&t);
        assert_eq!(j["query_type"], "influxql");
        assert_eq!(
            j["params"],
            serde_json::json!({"1": "b", "2": -3, "3": null, "4": true, "5": "2024-01-02"})
        );
        let none = json(&ticket("db", "SELECT 1", QueryLanguage::Sql, &Params::None).unwrap());
        assert!(none.get("params").is_none(), "{none}");
    }

    #[test]
    fn values_the_ticket_cannot_carry_are_refused_by_name() {
        for (value, what) in [
            (Value::Binary(vec![1]), "Binary"),
            (Value::Float64(f64::NAN), "NaN"),
        ] {
            let e = ticket(
                "db",
                "SELECT $x",
                QueryLanguage::Sql,
                &Params::Named(vec![("x".into(), value)]),
            )
            .unwrap_err();
            assert_eq!(e.kind(), dbapi::ErrorKind::NotSupported);
            let text = e.to_string();
            assert!(text.contains("$x") && text.contains(what), "{text}");
        }
        let e = ticket(
            "db",
            "SELECT $x",
            QueryLanguage::Sql,
            &Params::Named(vec![
                ("x".into(), Value::Int64(1)),
                (":x".into(), Value::Int64(2)),
            ]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
    }
}

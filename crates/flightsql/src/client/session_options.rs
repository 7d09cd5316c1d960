//! Flight session options (`SetSessionOptions`, `GetSessionOptions`, `CloseSession`).
//!
//! Servers keep a session's options under a cookie they set in the answer to these calls
//! (conventionally `arrow_flight_session_id`); the client keeps the cookies those answers set
//! and sends them on every later call, so that queries run in the session.

use std::collections::{BTreeMap, HashMap};

use dbapi::{Error, Result};
use prost::Message;

use crate::client::rpc::FlightSqlClient;

/// The value of a session option.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionValue {
    /// A string.
    String(String),
    /// A flag.
    Bool(bool),
    /// An integer.
    Int64(i64),
    /// A floating-point number.
    Double(f64),
    /// A list of strings.
    StringList(Vec<String>),
    /// No value: setting it asks the server to unset the option.
    Unset,
}

impl SessionValue {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            SessionValue::String(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for SessionValue {
    fn from(s: &str) -> SessionValue {
        SessionValue::String(s.to_owned())
    }
}

/// `SessionOptionValue` of `Flight.proto`.
#[derive(Clone, PartialEq, Message)]
struct OptionValue {
    #[prost(oneof = "Value", tags = "1, 2, 3, 4, 5")]
    value: Option<Value>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Value {
    #[prost(string, tag = "1")]
    String(String),
    #[prost(bool, tag = "2")]
    Bool(bool),
    #[prost(sfixed64, tag = "3")]
    Int64(i64),
    #[prost(double, tag = "4")]
    Double(f64),
    #[prost(message, tag = "5")]
    StringList(StringList),
}

#[derive(Clone, PartialEq, Message)]
struct StringList {
    #[prost(string, repeated, tag = "1")]
    values: Vec<String>,
}

/// `SetSessionOptionsRequest`, and `GetSessionOptionsResult` (the same shape).
#[derive(Clone, PartialEq, Message)]
struct Options {
    #[prost(map = "string, message", tag = "1")]
    options: HashMap<String, OptionValue>,
}

/// `SetSessionOptionsResult`.
#[derive(Clone, PartialEq, Message)]
struct SetResult {
    #[prost(map = "string, message", tag = "1")]
    errors: HashMap<String, SetError>,
}

#[derive(Clone, PartialEq, Message)]
struct SetError {
    #[prost(int32, tag = "1")]
    value: i32,
}

/// `CloseSessionResult`.
#[derive(Clone, PartialEq, Message)]
struct CloseResult {
    #[prost(int32, tag = "1")]
    status: i32,
}

impl From<&SessionValue> for OptionValue {
    fn from(value: &SessionValue) -> OptionValue {
        OptionValue {
            value: match value {
                SessionValue::String(s) => Some(Value::String(s.clone())),
                SessionValue::Bool(b) => Some(Value::Bool(*b)),
                SessionValue::Int64(i) => Some(Value::Int64(*i)),
                SessionValue::Double(d) => Some(Value::Double(*d)),
                SessionValue::StringList(l) => {
                    Some(Value::StringList(StringList { values: l.clone() }))
                }
                SessionValue::Unset => None,
            },
        }
    }
}

impl From<OptionValue> for SessionValue {
    fn from(value: OptionValue) -> SessionValue {
        match value.value {
            Some(Value::String(s)) => SessionValue::String(s),
            Some(Value::Bool(b)) => SessionValue::Bool(b),
            Some(Value::Int64(i)) => SessionValue::Int64(i),
            Some(Value::Double(d)) => SessionValue::Double(d),
            Some(Value::StringList(l)) => SessionValue::StringList(l.values),
            None => SessionValue::Unset,
        }
    }
}

fn reason(code: i32) -> &'static str {
    match code {
        1 => "invalid name",
        2 => "invalid value",
        3 => "the option cannot be set",
        _ => "unspecified error",
    }
}

fn decode<M: Message + Default>(bodies: &[bytes::Bytes], what: &str) -> Result<M> {
    let body = bodies.first().map(AsRef::as_ref).unwrap_or_default();
    crate::decode::protobuf(body, what)
}

impl FlightSqlClient {
    /// Sets session options (the `SetSessionOptions` action), opening a session on the server
    /// if none is open. Options the server refuses make one error that names each with the
    /// server's reason.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](dbapi::ErrorKind::NotSupported) when the server has no
    /// session options; a [`ErrorKind::Programming`](dbapi::ErrorKind::Programming) error
    /// naming the refused options.
    pub async fn set_session_options(
        &self,
        options: &BTreeMap<String, SessionValue>,
    ) -> Result<()> {
        let request = Options {
            options: options
                .iter()
                .map(|(k, v)| (k.clone(), OptionValue::from(v)))
                .collect(),
        };
        let bodies = self
            .session_action("SetSessionOptions", request.encode_to_vec())
            .await?;
        let result: SetResult = decode(&bodies, "SetSessionOptions")?;
        if result.errors.is_empty() {
            return Ok(());
        }
        let mut refused: Vec<String> = result
            .errors
            .iter()
            .map(|(name, e)| format!("{name:?} ({})", reason(e.value)))
            .collect();
        refused.sort();
        Err(Error::programming(format!(
            "the server refused session option {}",
            refused.join(", ")
        )))
    }

    /// The options of the current session (the `GetSessionOptions` action); empty when no
    /// session is open.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](dbapi::ErrorKind::NotSupported) when the server has no
    /// session options; the server's error.
    pub async fn session_options(&self) -> Result<BTreeMap<String, SessionValue>> {
        if !self.has_session() {
            return Ok(BTreeMap::new());
        }
        let bodies = self.session_action("GetSessionOptions", Vec::new()).await?;
        let result: Options = decode(&bodies, "GetSessionOptions")?;
        Ok(result
            .options
            .into_iter()
            .map(|(k, v)| (k, SessionValue::from(v)))
            .collect())
    }

    /// Sets the catalog and schema the URL names (keys `catalog` and `schema`), if any.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](dbapi::ErrorKind::NotSupported) saying the URL needs
    /// session options when the server has none; the server's error.
    pub(crate) async fn apply_url_session_options(&self) -> Result<()> {
        let config = self.config();
        let mut options = BTreeMap::new();
        if let Some(catalog) = config.catalog() {
            options.insert("catalog".to_owned(), SessionValue::from(catalog));
        }
        if let Some(schema) = config.schema() {
            options.insert("schema".to_owned(), SessionValue::from(schema));
        }
        if options.is_empty() {
            return Ok(());
        }
        self.set_session_options(&options).await.map_err(|e| {
            if e.is_not_supported() {
                Error::not_supported(
                    "the URL sets catalog or schema, which needs Flight session options, and \
                     the server does not implement SetSessionOptions",
                )
            } else {
                e.context("setting the catalog and schema of the URL")
            }
        })
    }

    /// Closes the current session, if one is open (the `CloseSession` action).
    ///
    /// # Errors
    /// The server's error.
    pub async fn close_session(&self) -> Result<()> {
        if !self.has_session() {
            return Ok(());
        }
        let outcome = self.session_action("CloseSession", Vec::new()).await;
        self.forget_session();
        let bodies = outcome?;
        let result: CloseResult = decode(&bodies, "CloseSession")?;
        match result.status {
            // Closed, closing; not closeable is the server's choice.
            1..=3 => Ok(()),
            other => Err(Error::operational(format!(
                "CloseSession: the server answered status {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_wire_form() {
        for value in [
            SessionValue::String("shop".into()),
            SessionValue::Bool(true),
            SessionValue::Int64(-7),
            SessionValue::Double(0.5),
            SessionValue::StringList(vec!["a".into(), "b".into()]),
            SessionValue::Unset,
        ] {
            let wire = OptionValue::from(&value).encode_to_vec();
            let back = SessionValue::from(OptionValue::decode(wire.as_slice()).unwrap());
            assert_eq!(back, value);
        }
        assert_eq!(reason(2), "invalid value");
    }
}

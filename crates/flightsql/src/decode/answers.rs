//! Answers that are not Arrow IPC: the protobuf messages of action and `DoPut` results and
//! of partitions, and the JSON of a token endpoint. Each is decoded here, from bytes whose
//! length its reader already bounded by [`Limits`](crate::config::Limits); a malformed one is
//! an error naming what it was the answer to.

use arrow_flight::sql::ProstMessageExt;
use dbapi::{Error, Result};
use prost::Message;

/// A protobuf message: the answer to `what`.
///
/// # Errors
/// An [`Internal`](dbapi::ErrorKind::Internal) error naming `what` for bytes that are not
/// such a message.
pub(crate) fn protobuf<M: Message + Default>(bytes: &[u8], what: &str) -> Result<M> {
    M::decode(bytes)
        .map_err(|e| Error::internal(format!("{what}: malformed answer")).with_source(e))
}

/// A protobuf message packed in an `Any` (the form of Flight SQL's action results).
///
/// # Errors
/// As [`protobuf`]; also an answer holding another message type than `M`.
pub(crate) fn packed<M: Message + Default + ProstMessageExt>(
    bytes: &[u8],
    what: &str,
) -> Result<M> {
    let any: arrow_flight::sql::Any = protobuf(bytes, what)?;
    any.unpack::<M>()
        .map_err(|e| Error::internal(format!("{what}: malformed answer")).with_source(e))?
        .ok_or_else(|| {
            Error::internal(format!(
                "{what}: the server answered with a {} instead of a {}",
                any.type_url,
                M::type_url()
            ))
        })
}

/// A JSON document (a token endpoint's answer). Nesting deeper than 128 levels is refused
/// (`serde_json`'s recursion limit), so no answer exhausts the stack.
///
/// # Errors
/// A description for an answer that is not JSON, to be wrapped by the caller.
pub(crate) fn json(bytes: &[u8]) -> std::result::Result<serde_json::Value, String> {
    serde_json::from_slice(bytes)
        .map_err(|e| format!("the answer is not JSON ({} bytes): {e}", bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_flight::sql::{ActionCreatePreparedStatementResult, DoPutUpdateResult};

    #[test]
    fn malformed_answers_name_what_they_answered() {
        let e = protobuf::<DoPutUpdateResult>(&[0xff, 0xff], "ExecuteUpdate").unwrap_err();
        assert!(
            e.to_string().contains("ExecuteUpdate: malformed answer"),
            "{e}"
        );
        let other = DoPutUpdateResult { record_count: 3 }
            .as_any()
            .encode_to_vec();
        let e = packed::<ActionCreatePreparedStatementResult>(&other, "prepare").unwrap_err();
        assert!(e.to_string().contains("instead of"), "{e}");
        assert!(json(b"{\"a\":").is_err());
        assert!(json(&[b'['; 10_000]).is_err());
    }
}

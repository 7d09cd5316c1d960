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

    /// Cases per property: `PROPTEST_CASES` runs them long.
    fn cases() -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000)
    }

    /// Real answers of every kind the driver decodes, encoded.
    fn seeds() -> Vec<Vec<u8>> {
        use arrow_flight::sql::{ActionBeginTransactionResult, DoPutPreparedStatementResult};
        use arrow_flight::{CancelFlightInfoResult, FlightEndpoint, FlightInfo, Location, Ticket};
        let endpoint = FlightEndpoint {
            ticket: Some(Ticket::new(vec![7_u8; 40])),
            location: vec![
                Location {
                    uri: "grpc+tls://node-1.example.com:8815".into(),
                },
                Location {
                    uri: "arrow-flight-reuse-connection://?".into(),
                },
            ],
            expiration_time: None,
            app_metadata: vec![1, 2, 3].into(),
        };
        let info = FlightInfo {
            schema: vec![0xff; 16].into(),
            flight_descriptor: None,
            endpoint: vec![endpoint.clone(), endpoint.clone()],
            total_records: 1000,
            total_bytes: -1,
            ordered: true,
            app_metadata: vec![].into(),
        };
        vec![
            info.encode_to_vec(),
            endpoint.encode_to_vec(),
            CancelFlightInfoResult { status: 1 }.encode_to_vec(),
            DoPutUpdateResult { record_count: 42 }.encode_to_vec(),
            DoPutPreparedStatementResult {
                prepared_statement_handle: Some(vec![9_u8; 12].into()),
            }
            .encode_to_vec(),
            ActionCreatePreparedStatementResult {
                prepared_statement_handle: vec![1_u8; 8].into(),
                dataset_schema: vec![0xff; 24].into(),
                parameter_schema: vec![].into(),
            }
            .as_any()
            .encode_to_vec(),
            ActionBeginTransactionResult {
                transaction_id: vec![3_u8; 16].into(),
            }
            .as_any()
            .encode_to_vec(),
        ]
    }

    /// Decodes `bytes` as every answer type: each is an answer or an error, never a panic.
    fn decode_as_everything(bytes: &[u8]) {
        use arrow_flight::sql::{ActionBeginTransactionResult, DoPutPreparedStatementResult};
        use arrow_flight::{CancelFlightInfoResult, FlightEndpoint, FlightInfo};
        let _ = protobuf::<FlightInfo>(bytes, "a");
        let _ = protobuf::<FlightEndpoint>(bytes, "a");
        let _ = protobuf::<CancelFlightInfoResult>(bytes, "a");
        let _ = protobuf::<DoPutUpdateResult>(bytes, "a");
        let _ = protobuf::<DoPutPreparedStatementResult>(bytes, "a");
        let _ = packed::<ActionCreatePreparedStatementResult>(bytes, "a");
        let _ = packed::<ActionBeginTransactionResult>(bytes, "a");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: cases(),
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Real answers with bytes overwritten, inserted or cut.
        #[test]
        fn mutated_protobuf_answers_decode_or_fail_cleanly(
            which in 0_usize..7,
            edits in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>(), 0_u8..3), 1..6),
        ) {
            let mut bytes = seeds()[which].clone();
            for (at, value, how) in edits {
                let at = at % (bytes.len() + 1);
                match how {
                    0 if at < bytes.len() => bytes[at] = value,
                    1 => bytes.insert(at, value),
                    _ => bytes.truncate(at),
                }
            }
            decode_as_everything(&bytes);
        }

        /// Any bytes at all.
        #[test]
        fn arbitrary_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            decode_as_everything(&bytes);
            let _ = json(&bytes);
        }
    }

    #[test]
    fn seeds_decode() {
        let seeds = seeds();
        let info: arrow_flight::FlightInfo = protobuf(&seeds[0], "a").unwrap();
        assert_eq!(info.endpoint.len(), 2);
        let prepared: ActionCreatePreparedStatementResult = packed(&seeds[5], "a").unwrap();
        assert_eq!(prepared.prepared_statement_handle.len(), 8);
    }
}

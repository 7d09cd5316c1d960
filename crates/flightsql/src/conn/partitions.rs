//! A result as parts read anywhere: one part per endpoint, serialized as the reference (Go)
//! Flight SQL ADBC driver writes them, so that either driver reads the other's.

use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow_flight::{FlightEndpoint, FlightInfo};
pub use dbapi::Partitions;
use dbapi::{Cursor as _, Error, Params, Result};
use prost::Message;

use crate::conn::connection::FlightSqlConnection;
use crate::conn::cursor::FlightSqlCursor;
use crate::decode;

/// What a part holds: a `FlightInfo` of one endpoint (the reference driver's form, written
/// here), or a bare `FlightEndpoint` (read too).
fn decode_part(part: &[u8]) -> Result<FlightInfo> {
    if let Ok(info) = decode::protobuf::<FlightInfo>(part, "a partition")
        && !info.endpoint.is_empty()
    {
        return Ok(info);
    }
    let endpoint: FlightEndpoint = decode::protobuf(part, "a partition").map_err(|e| {
        Error::programming(format!(
            "not a partition of a Flight SQL result (neither a FlightInfo nor a \
             FlightEndpoint): {e}"
        ))
    })?;
    if endpoint.ticket.is_none() && endpoint.location.is_empty() {
        return Err(Error::programming(
            "not a partition of a Flight SQL result: it names no ticket and no location",
        ));
    }
    Ok(FlightInfo {
        endpoint: vec![endpoint],
        total_records: -1,
        total_bytes: -1,
        ..FlightInfo::default()
    })
}

impl FlightSqlConnection {
    /// Plans `sql` and returns its result as parts, one per endpoint, without reading any:
    /// each part is a serialized `FlightInfo` holding the result's schema and one endpoint
    /// (the form of the reference Flight SQL ADBC driver), to be read by
    /// [`read_partition`](FlightSqlConnection::read_partition) anywhere.
    ///
    /// # Errors
    /// A [`Programming`](dbapi::ErrorKind::Programming) error inside a transaction (parts
    /// are read by other connections, which cannot see it); the server's error; an
    /// [`Internal`](dbapi::ErrorKind::Internal) error for a schema the decode guard refuses.
    pub async fn execute_partitions(&self, sql: &str, params: Params) -> Result<Partitions> {
        if !dbapi::Connection::autocommit(self) {
            return Err(Error::programming(
                "partitions are read by other connections, outside this one's transaction: \
                 commit or roll back first (or turn autocommit on)",
            ));
        }
        let mut cursor = self.flight_cursor()?;
        cursor.execute(sql, params).await?;
        let Some((info, schema)) = cursor.detach() else {
            return Err(Error::programming(format!(
                "the statement has no result to partition: {sql}"
            )));
        };
        let parts = info
            .endpoint
            .iter()
            .map(|endpoint| {
                FlightInfo {
                    schema: info.schema.clone(),
                    flight_descriptor: info.flight_descriptor.clone(),
                    endpoint: vec![endpoint.clone()],
                    total_records: -1,
                    total_bytes: -1,
                    ordered: false,
                    app_metadata: info.app_metadata.clone(),
                }
                .encode_to_vec()
            })
            .collect();
        // -1 means unknown; any other negative number is no count either.
        let total = |n: i64| u64::try_from(n).ok();
        Ok(
            Partitions::new(schema.unwrap_or_else(|| Arc::new(Schema::empty())), parts)
                .with_totals(total(info.total_records), total(info.total_bytes)),
        )
    }

    /// A cursor over one part of a result (either driver's form: a `FlightInfo`, or a bare
    /// `FlightEndpoint`), read lazily like any result: at the part's locations under the
    /// connection's location and credential policy, through the decode guard, with the same
    /// retries and renewal as any endpoint.
    ///
    /// # Errors
    /// A [`Programming`](dbapi::ErrorKind::Programming) error for bytes that are no part; a
    /// closed connection.
    pub async fn read_partition(&self, part: &[u8]) -> Result<FlightSqlCursor> {
        let info = decode_part(part)?;
        let mut cursor = self.flight_cursor()?;
        cursor.run_info(info).await?;
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_flight::{Location, Ticket};

    #[test]
    fn both_forms_decode_and_garbage_is_a_programming_error() {
        let endpoint = FlightEndpoint::new()
            .with_ticket(Ticket::new("t1"))
            .with_location("grpc://h:1");
        let info = FlightInfo::new().with_endpoint(endpoint.clone());
        let from_info = decode_part(&info.encode_to_vec()).unwrap();
        assert_eq!(from_info.endpoint, std::slice::from_ref(&endpoint));
        let from_endpoint = decode_part(&endpoint.encode_to_vec()).unwrap();
        assert_eq!(from_endpoint.endpoint, [endpoint]);
        let bare = FlightEndpoint {
            location: vec![Location {
                uri: "grpc://h:2".into(),
            }],
            ..FlightEndpoint::default()
        };
        assert_eq!(decode_part(&bare.encode_to_vec()).unwrap().endpoint, [bare]);
        for garbage in [&b""[..], b"\xff\xff\xff", b"\x0a\x05abc"] {
            let e = decode_part(garbage).unwrap_err();
            assert_eq!(e.kind(), dbapi::ErrorKind::Programming, "{e}");
        }
    }
}

//! Partitioned results ([`dbapi::Connection::execute_partitions`]): the ADBC driver's own
//! partitions (`AdbcStatementExecutePartitions`, passed on byte for byte, so any ADBC host of
//! the same driver reads them too) where the driver has them, else one part that holds the
//! query itself and runs it where it is read.

use std::sync::Arc;

use adbc_core::Connection as _;
use adbc_core::Statement as _;
use adbc_core::error::Status;
use arrow::record_batch::RecordBatchReader;
use dbapi::{Error, Partitions, Result};

use crate::slot::OpenResult;

use crate::cursor::{CancelState, statement, statement_with};
use crate::native::Call;

/// How a part that holds a query begins: no driver's partition does (they are the driver's own
/// serialized descriptors), and the rest is the query's UTF-8 text.
const QUERY_PART: &[u8] = b"dbapi-adbc-query/1\n";

/// What a part of this crate's reads as.
enum Part<'a> {
    /// The query, run where the part is read (a driver without partitions).
    Query(&'a str),
    /// The driver's own partition.
    Driver(&'a [u8]),
}

/// What `part` holds; an error names what is wrong with bytes that begin as a query part.
fn parse(part: &[u8]) -> Result<Part<'_>> {
    let Some(text) = part.strip_prefix(QUERY_PART) else {
        return Ok(Part::Driver(part));
    };
    std::str::from_utf8(text).map(Part::Query).map_err(|e| {
        Error::programming(format!(
            "a query part whose query is not UTF-8 (at byte {}): not a part of this driver's",
            e.valid_up_to()
        ))
    })
}

/// The part that runs `sql` where it is read.
fn query_part(sql: &str) -> Vec<u8> {
    [QUERY_PART, sql.as_bytes()].concat()
}

/// Runs `sql` (with `params`, a one-row batch, bound to the prepared statement) as parts.
pub(crate) fn execute(
    call: &mut Call<'_>,
    sql: &str,
    params: Option<arrow::record_batch::RecordBatch>,
) -> Result<Partitions> {
    let has_params = params.is_some();
    let mut statement = statement_with(call, sql, params, &CancelState::default())?;
    if call.traits().partitions {
        match statement.execute_partitions() {
            Ok(result) => {
                return Ok(Partitions::new(Arc::new(result.schema), result.partitions));
            }
            Err(e) if e.status == Status::NotImplemented => {}
            Err(e) => return Err(call.error(e, "executing as partitions")),
        }
    }
    // No partitions of the driver's own: one part holding the query.
    if has_params {
        return Err(Error::not_supported(
            "partitions of a query with parameters: this ADBC driver has no partitions of \
             its own, and a part that holds the query holds no parameters (give the values \
             in the SQL, or read the query with a cursor)",
        ));
    }
    let schema = match statement.execute_schema() {
        Ok(schema) => Arc::new(schema),
        // The driver cannot tell the schema without running the query: run it once for its
        // schema (no row is read).
        Err(_) => {
            let mut again = crate::cursor::statement(call, sql, &CancelState::default())?;
            again
                .execute()
                .map_err(|e| call.error(e, "executing"))?
                .schema()
        }
    };
    Ok(Partitions::new(schema, vec![query_part(sql)]))
}

/// Bytes given as a part to a connection whose driver has no partitions of its own, that are
/// not a part holding a query either.
fn foreign_part(call: &Call<'_>) -> Error {
    Error::programming(format!(
        "not a part of this connection's: the {} driver has no partitions of its own, and its \
         parts hold their query",
        call.driver()
    ))
}

/// The result of `part`, on this connection (with the statement it came from, for a part
/// that holds its query).
pub(crate) fn read(call: &mut Call<'_>, part: &[u8]) -> Result<OpenResult> {
    match parse(part)? {
        Part::Query(sql) => {
            let mut statement = statement(call, sql, &CancelState::default())?;
            let reader = statement
                .execute()
                .map_err(|e| call.error(e, "reading a part (running its query)"))?;
            Ok(call.open_result(Box::new(reader), Box::new(statement)))
        }
        Part::Driver(_) if !call.traits().partitions => Err(foreign_part(call)),
        Part::Driver(bytes) => match call.conn.read_partition(bytes) {
            Ok(reader) => Ok(call.open_result(reader, Box::new(()))),
            Err(e) if e.status == Status::NotImplemented => Err(foreign_part(call)),
            Err(e) => Err(call.error(e, "reading a part")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parts_round_trip_and_driver_parts_pass_through() {
        let part = query_part("SELECT 'ä'");
        assert!(matches!(parse(&part).unwrap(), Part::Query("SELECT 'ä'")));
        let driver = b"\x0a\x05bytes";
        assert!(matches!(parse(driver).unwrap(), Part::Driver(b) if b == driver));
        let mut bad = QUERY_PART.to_vec();
        bad.extend_from_slice(b"SELECT \xff");
        let e = parse(&bad).err().unwrap();
        assert_eq!(e.kind(), dbapi::ErrorKind::Programming);
        assert!(e.to_string().contains("not UTF-8 (at byte 7)"), "{e}");
    }
}

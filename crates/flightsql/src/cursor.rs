//! The Flight SQL cursor.

use arrow::record_batch::RecordBatch;
use arrow_flight::FlightInfo;
use async_trait::async_trait;
use dbapi::{Column, Cursor, DEFAULT_ARRAYSIZE, Error, Params, Result, ResultSet, Row};

use crate::client::FlightSqlClient;
use crate::fetch::EndpointStream;

/// A cursor of a [`FlightSqlConnection`](crate::FlightSqlConnection).
///
/// `execute` sends the query (`GetFlightInfo`) and reads nothing; the first fetch opens the
/// first endpoint, and later endpoints are opened as the cursor reaches them, with the
/// connection's `read_ahead` endpoints opened in advance. Every endpoint is read, in order.
#[derive(Debug)]
pub struct FlightSqlCursor {
    client: FlightSqlClient,
    arraysize: usize,
    closed: bool,
    info: Option<FlightInfo>,
    result: Option<ResultSet<EndpointStream>>,
}

impl FlightSqlCursor {
    pub(crate) fn new(client: FlightSqlClient) -> FlightSqlCursor {
        FlightSqlCursor {
            client,
            arraysize: DEFAULT_ARRAYSIZE,
            closed: false,
            info: None,
            result: None,
        }
    }

    /// The `FlightInfo` of the last `execute`: its endpoints, tickets and locations.
    pub fn flight_info(&self) -> Option<&FlightInfo> {
        self.info.as_ref()
    }

    fn check_open(&self) -> Result<()> {
        if self.closed {
            Err(Error::interface("the cursor is closed"))
        } else if self.client.is_closed() {
            Err(Error::interface("the connection is closed"))
        } else {
            Ok(())
        }
    }

    fn result(&mut self) -> Result<&mut ResultSet<EndpointStream>> {
        self.check_open()?;
        self.result
            .as_mut()
            .ok_or_else(|| Error::interface("no result to fetch: call execute first"))
    }
}

#[async_trait]
impl Cursor for FlightSqlCursor {
    async fn execute(&mut self, sql: &str, params: Params) -> Result<()> {
        self.check_open()?;
        if !params.is_empty() {
            return Err(Error::not_supported(
                "statement parameters are not supported by the Flight SQL driver yet; \
                 inline the values in the SQL text",
            ));
        }
        // Drop (and cancel) the previous result before starting the next.
        self.result = None;
        self.info = None;
        let info = self.client.execute(sql).await?;
        let schema = if info.schema.is_empty() {
            None
        } else {
            Some(std::sync::Arc::new(
                arrow::datatypes::Schema::try_from(arrow_flight::IpcMessage(info.schema.clone()))
                    .map_err(|e| {
                    Error::internal("the server sent a FlightInfo with an undecodable schema")
                        .with_source(e)
                })?,
            ))
        };
        let stream = EndpointStream::new(self.client.clone(), info.endpoint.clone(), schema);
        self.result = Some(ResultSet::new(stream));
        self.info = Some(info);
        Ok(())
    }

    fn description(&self) -> Option<&[Column]> {
        self.result.as_ref()?.columns()
    }

    fn rowcount(&self) -> i64 {
        match (&self.result, &self.info) {
            (Some(result), _) if result.is_exhausted() => {
                i64::try_from(result.rows_fetched()).unwrap_or(i64::MAX)
            }
            (Some(_), Some(info)) if info.total_records >= 0 => info.total_records,
            _ => -1,
        }
    }

    fn arraysize(&self) -> usize {
        self.arraysize
    }

    fn set_arraysize(&mut self, size: usize) {
        self.arraysize = size.max(1);
    }

    async fn fetchone(&mut self) -> Result<Option<Row>> {
        self.result()?.fetchone().await
    }

    async fn fetchmany(&mut self, size: Option<usize>) -> Result<Vec<Row>> {
        let size = size.unwrap_or(self.arraysize);
        self.result()?.fetchmany(size).await
    }

    async fn fetchall(&mut self) -> Result<Vec<Row>> {
        self.result()?.fetchall().await
    }

    async fn fetch_batch(&mut self) -> Result<Option<RecordBatch>> {
        self.result()?.fetch_batch().await
    }

    async fn close(&mut self) -> Result<()> {
        self.closed = true;
        self.result = None;
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.closed || self.client.is_closed()
    }
}

//! The Flight SQL connection.

use async_trait::async_trait;
use dbapi::{Connection, Cursor, Error, Result};

use crate::client::FlightSqlClient;
use crate::config::Config;
use crate::cursor::FlightSqlCursor;

/// A connection to a Flight SQL server.
///
/// Statements run in autocommit mode: [`commit`](Connection::commit) succeeds without doing
/// anything, [`rollback`](Connection::rollback) is not supported.
#[derive(Debug, Clone)]
pub struct FlightSqlConnection {
    client: FlightSqlClient,
}

impl FlightSqlConnection {
    /// Connects with a URL (see `docs/url.md`).
    ///
    /// # Errors
    /// As [`FlightSqlClient::connect`].
    pub async fn connect(url: &str) -> Result<FlightSqlConnection> {
        Ok(FlightSqlConnection {
            client: FlightSqlClient::connect(url).await?,
        })
    }

    /// Connects with a [`Config`].
    ///
    /// # Errors
    /// As [`FlightSqlClient::connect_with`].
    pub async fn connect_with(config: Config) -> Result<FlightSqlConnection> {
        Ok(FlightSqlConnection {
            client: FlightSqlClient::connect_with(config).await?,
        })
    }

    /// The low-level client of this connection.
    pub fn client(&self) -> &FlightSqlClient {
        &self.client
    }

    /// A new cursor, as its concrete type (for [`FlightSqlCursor::flight_info`]).
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](dbapi::ErrorKind::Interface) error if the connection is
    /// closed.
    pub fn flight_cursor(&self) -> Result<FlightSqlCursor> {
        if self.client.is_closed() {
            return Err(Error::interface("the connection is closed"));
        }
        Ok(FlightSqlCursor::new(self.client.clone()))
    }
}

#[async_trait]
impl Connection for FlightSqlConnection {
    fn cursor(&self) -> Result<Box<dyn Cursor>> {
        Ok(Box::new(self.flight_cursor()?))
    }

    async fn commit(&mut self) -> Result<()> {
        if self.client.is_closed() {
            return Err(Error::interface("the connection is closed"));
        }
        Ok(())
    }

    async fn rollback(&mut self) -> Result<()> {
        Err(Error::not_supported(
            "rollback: the Flight SQL driver runs statements in autocommit mode; transactions are not supported yet",
        ))
    }

    async fn close(&mut self) -> Result<()> {
        self.client.close();
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

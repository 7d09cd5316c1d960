//! Per-connection state shared by a connection, its cursors and its prepared statements:
//! autocommit and the current transaction, savepoints, what the server can do (probed once),
//! what it refused (so that a refused kind of call is not paid for again), and the cache of
//! prepared statements.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use arrow_flight::FlightInfo;
use bytes::Bytes;
use dbapi::metadata::ServerInfo;
use dbapi::{Error, Result};

use crate::client::{FlightSqlClient, PreparedHandle, server_info};

/// What the server supports, from its `SqlInfo` (probed once per connection, lazily).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Capabilities {
    /// Transactions are supported.
    pub(crate) transactions: bool,
    /// Savepoints are supported.
    pub(crate) savepoints: bool,
    /// The server says it supports cancellation (`None`: it did not say).
    pub(crate) cancel: Option<bool>,
}

impl Capabilities {
    fn of(info: &ServerInfo) -> Capabilities {
        Capabilities {
            transactions: info.transactions.unwrap_or(false),
            savepoints: info.savepoints.unwrap_or(false),
            cancel: info.cancel,
        }
    }
}

/// A prepared statement kept for reuse, with the SQL and transaction it belongs to.
#[derive(Debug)]
struct Cached {
    sql: String,
    transaction: Option<Bytes>,
    statement: PreparedHandle,
}

/// Per-connection state.
#[derive(Debug)]
pub(crate) struct Session {
    client: FlightSqlClient,
    autocommit: AtomicBool,
    transaction: tokio::sync::Mutex<Option<Bytes>>,
    savepoints: Mutex<HashMap<String, Bytes>>,
    server_info: tokio::sync::OnceCell<ServerInfo>,
    /// Whether the server lists schemas and tables only per catalog (probed once).
    needs_catalog: tokio::sync::OnceCell<bool>,
    /// The server answered `UNIMPLEMENTED` to an update through `DoPut`.
    updates_refused: AtomicBool,
    /// The server answered `UNIMPLEMENTED` to `CancelFlightInfo`.
    cancel_flight_info_refused: AtomicBool,
    /// The server answered `UNIMPLEMENTED` to both ways of cancelling.
    cancel_refused: AtomicBool,
    /// Least recently used first.
    cache: Mutex<Vec<Cached>>,
}

impl Session {
    pub(crate) fn new(client: FlightSqlClient) -> Session {
        Session {
            client,
            autocommit: AtomicBool::new(true),
            transaction: tokio::sync::Mutex::new(None),
            savepoints: Mutex::new(HashMap::new()),
            server_info: tokio::sync::OnceCell::new(),
            needs_catalog: tokio::sync::OnceCell::new(),
            updates_refused: AtomicBool::new(false),
            cancel_flight_info_refused: AtomicBool::new(false),
            cancel_refused: AtomicBool::new(false),
            cache: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn client(&self) -> &FlightSqlClient {
        &self.client
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.client.is_closed() {
            Err(Error::interface("the connection is closed"))
        } else {
            Ok(())
        }
    }

    /// What the server says about itself (`GetSqlInfo`, asked once and kept); a server
    /// without `GetSqlInfo` says nothing.
    pub(crate) async fn server_info(&self) -> Result<ServerInfo> {
        self.server_info
            .get_or_try_init(|| async {
                match self.client.sql_info(&[]).await {
                    Ok(raw) => Ok(server_info(raw)),
                    Err(e) if e.is_not_supported() => Ok(ServerInfo::default()),
                    Err(e) => Err(e),
                }
            })
            .await
            .cloned()
    }

    /// What the server supports; a server that does not say supports nothing optional.
    pub(crate) async fn capabilities(&self) -> Capabilities {
        self.server_info()
            .await
            .map(|info| Capabilities::of(&info))
            .unwrap_or_default()
    }

    /// Whether the server lists schemas (and tables) only per catalog, probed once by
    /// `probe`.
    pub(crate) async fn needs_catalog<F>(&self, probe: F) -> Result<bool>
    where
        F: std::future::Future<Output = Result<bool>>,
    {
        self.needs_catalog.get_or_try_init(|| probe).await.copied()
    }

    pub(crate) fn autocommit(&self) -> bool {
        self.autocommit.load(Ordering::SeqCst)
    }

    pub(crate) async fn set_autocommit(&self, on: bool) -> Result<()> {
        self.check_open()?;
        if on {
            if !self.autocommit() {
                self.end_transaction(true).await?;
                self.autocommit.store(true, Ordering::SeqCst);
            }
            return Ok(());
        }
        if !self.capabilities().await.transactions {
            return Err(Error::not_supported(
                "turning autocommit off: the server has no transactions (its SqlInfo \
                 FLIGHT_SQL_SERVER_TRANSACTION is not TRANSACTION or SAVEPOINT)",
            ));
        }
        self.autocommit.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// The transaction statements run in: none in autocommit mode; else the current one,
    /// begun now if none is open.
    pub(crate) async fn transaction(&self) -> Result<Option<Bytes>> {
        if self.autocommit() {
            return Ok(None);
        }
        let mut current = self.transaction.lock().await;
        if current.is_none() {
            *current = Some(self.client.begin_transaction().await?);
        }
        Ok(current.clone())
    }

    /// Commits or rolls back the open transaction, if any.
    pub(crate) async fn end_transaction(&self, commit: bool) -> Result<()> {
        self.check_open()?;
        let mut current = self.transaction.lock().await;
        let Some(id) = current.take() else {
            return Ok(());
        };
        self.savepoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.forget_statements_of(&id);
        self.client.end_transaction(&id, commit).await
    }

    pub(crate) async fn savepoint(&self, name: &str) -> Result<()> {
        self.check_open()?;
        if self.autocommit() {
            return Err(Error::interface(
                "savepoints live in a transaction: turn autocommit off first",
            ));
        }
        if !self.capabilities().await.savepoints {
            return Err(Error::not_supported(
                "savepoints: the server does not support them (its SqlInfo \
                 FLIGHT_SQL_SERVER_TRANSACTION is not SAVEPOINT)",
            ));
        }
        let transaction = self.transaction().await?.ok_or_else(|| {
            Error::interface("savepoints live in a transaction: turn autocommit off first")
        })?;
        let id = self.client.begin_savepoint(&transaction, name).await?;
        self.savepoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), id);
        Ok(())
    }

    pub(crate) async fn end_savepoint(&self, name: &str, release: bool) -> Result<()> {
        self.check_open()?;
        let id = self
            .savepoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name)
            .ok_or_else(|| Error::programming(format!("no savepoint named {name:?}")))?;
        self.client.end_savepoint(&id, release).await
    }

    pub(crate) fn updates_refused(&self) -> bool {
        self.updates_refused.load(Ordering::SeqCst)
    }

    pub(crate) fn refuse_updates(&self) {
        self.updates_refused.store(true, Ordering::SeqCst);
    }

    /// Asks the server to cancel a query: `CancelFlightInfo`, or the deprecated
    /// `CancelQuery` when the server does not implement the former. Remembers refusals.
    pub(crate) async fn cancel(&self, info: &FlightInfo) -> Result<()> {
        if self.cancel_refused.load(Ordering::SeqCst) || info.endpoint.is_empty() {
            return Ok(());
        }
        tracing::debug!(endpoints = info.endpoint.len(), "cancelling a query");
        if !self.cancel_flight_info_refused.load(Ordering::SeqCst) {
            match self.client.cancel_flight_info(info).await {
                Ok(outcome) => {
                    tracing::debug!(?outcome, "CancelFlightInfo answered");
                    return Ok(());
                }
                Err(e) if e.is_not_supported() => {
                    tracing::debug!("CancelFlightInfo not served; falling back to CancelQuery");
                    self.cancel_flight_info_refused
                        .store(true, Ordering::SeqCst);
                }
                Err(e) => return Err(e),
            }
        }
        match self.client.cancel_query(info).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_supported() => {
                self.cancel_refused.store(true, Ordering::SeqCst);
                Err(Error::not_supported(
                    "the server implements neither CancelFlightInfo nor CancelQuery",
                )
                .with_source(e))
            }
            Err(e) => Err(e),
        }
    }

    /// A prepared statement for `sql` in `transaction`: a cached one (taken out of the
    /// cache: the caller has it alone until [`Session::give_back`]) or a new one.
    pub(crate) async fn take_statement(
        &self,
        sql: &str,
        transaction: Option<&Bytes>,
    ) -> Result<PreparedHandle> {
        let cached = {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache
                .iter()
                .rposition(|c| c.sql == sql && c.transaction.as_ref() == transaction)
                .map(|i| cache.remove(i).statement)
        };
        match cached {
            Some(statement) => Ok(statement),
            None => self.client.prepare(sql, transaction).await,
        }
    }

    /// Returns a statement to the cache; the least recently used one beyond the cache's
    /// size is closed on the server (in the background).
    pub(crate) fn give_back(
        &self,
        sql: &str,
        transaction: Option<Bytes>,
        statement: PreparedHandle,
    ) {
        let capacity = self.client.config().statement_cache();
        let evicted: Vec<PreparedHandle> = {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache.push(Cached {
                sql: sql.to_owned(),
                transaction,
                statement,
            });
            let excess = cache.len().saturating_sub(capacity);
            cache.drain(..excess).map(|c| c.statement).collect()
        };
        for statement in evicted {
            close_in_background(&self.client, statement);
        }
    }

    /// Closes the cached statements of a transaction that ended.
    fn forget_statements_of(&self, transaction: &Bytes) {
        let forgotten: Vec<PreparedHandle> = {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            let (gone, kept): (Vec<Cached>, Vec<Cached>) = cache
                .drain(..)
                .partition(|c| c.transaction.as_ref() == Some(transaction));
            *cache = kept;
            gone.into_iter().map(|c| c.statement).collect()
        };
        for statement in forgotten {
            close_in_background(&self.client, statement);
        }
    }

    /// Rolls back an open transaction and closes cached statements; then marks the client
    /// closed.
    pub(crate) async fn close(&self) -> Result<()> {
        if self.client.is_closed() {
            return Ok(());
        }
        let rollback = match self.transaction.lock().await.take() {
            Some(id) => self.client.end_transaction(&id, false).await,
            None => Ok(()),
        };
        let cached: Vec<Cached> = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .collect();
        for c in cached {
            let _ = self.client.close_prepared(&c.statement).await;
        }
        let session = self.client.close_session().await;
        self.client.close();
        rollback.and(session)
    }
}

impl Drop for Session {
    /// Best effort, never blocking: roll back an open transaction and close cached
    /// statements in the background.
    fn drop(&mut self) {
        if self.client.is_closed() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let transaction = self.transaction.get_mut().take();
        let cached: Vec<PreparedHandle> = self
            .cache
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .map(|c| c.statement)
            .collect();
        let session = self.client.has_session();
        if transaction.is_none() && cached.is_empty() && !session {
            return;
        }
        let client = self.client.clone();
        runtime.spawn(async move {
            if let Some(id) = transaction {
                let _ = client.end_transaction(&id, false).await;
            }
            for statement in cached {
                let _ = client.close_prepared(&statement).await;
            }
            if session {
                let _ = client.close_session().await;
            }
        });
    }
}

/// Closes a prepared statement in the background (best effort, never blocking).
pub(crate) fn close_in_background(client: &FlightSqlClient, statement: PreparedHandle) {
    if client.is_closed() {
        return;
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let client = client.clone();
        runtime.spawn(async move {
            let _ = client.close_prepared(&statement).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_from_server_info() {
        assert_eq!(
            Capabilities::of(&ServerInfo::default()),
            Capabilities::default()
        );
        let info = ServerInfo {
            transactions: Some(true),
            savepoints: Some(false),
            cancel: Some(true),
            ..ServerInfo::default()
        };
        let c = Capabilities::of(&info);
        assert!(c.transactions && !c.savepoints);
        assert_eq!(c.cancel, Some(true));
    }
}

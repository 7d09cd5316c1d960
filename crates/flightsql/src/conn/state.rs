//! Per-connection state shared by a connection, its cursors and its prepared statements, each
//! piece in one place: the transaction state (autocommit, the open transaction and its
//! savepoints, under one lock), the capabilities record (what the server says it supports,
//! probed once, and the calls it was found to lack, decided one way), and the cache of
//! prepared statements.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arrow_flight::FlightInfo;
use bytes::Bytes;
use dbapi::metadata::ServerInfo;
use dbapi::{Abandoned, Error, Result};

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

/// A call some servers lack, learned once per connection from their answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Call {
    /// Updates through `DoPut` (`CommandStatementUpdate`, `CommandPreparedStatementUpdate`).
    DoPutUpdate,
    /// `CancelFlightInfo`.
    CancelFlightInfo,
    /// The deprecated `CancelQuery`.
    CancelQuery,
    /// More than one parameter row in one execution.
    ParameterRows,
}

/// The transaction state: one value under one lock.
#[derive(Debug, Default)]
enum Transaction {
    /// Each statement commits as it completes.
    #[default]
    Auto,
    /// Statements run in a transaction, begun at the first one.
    Manual { open: Option<Open> },
}

/// An open transaction and its savepoints.
#[derive(Debug)]
struct Open {
    id: Bytes,
    savepoints: Vec<(String, Bytes)>,
}

/// The open transaction and the position of its latest savepoint named `name`.
fn savepoint<'a>(state: &'a mut Transaction, name: &str) -> Option<(&'a mut Open, usize)> {
    let Transaction::Manual {
        open: Some(current),
    } = state
    else {
        return None;
    };
    let index = current.savepoints.iter().rposition(|(n, _)| n == name)?;
    Some((current, index))
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
    /// The transaction state. Every transition (begin, commit, rollback, autocommit,
    /// savepoints) holds this lock across its call to the server, so a statement starting
    /// meanwhile sees the state before or after, never between.
    transaction: tokio::sync::Mutex<Transaction>,
    /// Whether autocommit is on: a copy of the state for synchronous readers, written under
    /// the lock (and by [`Session::abandon`], ahead of the state it will lead to).
    autocommit: AtomicBool,
    /// What dropped guards left to undo, undone by the next holder of the transaction lock
    /// before anything else.
    abandoned: Mutex<Vec<Abandoned>>,
    server_info: tokio::sync::OnceCell<ServerInfo>,
    /// Whether the server lists schemas and tables only per catalog (probed once).
    needs_catalog: tokio::sync::OnceCell<bool>,
    /// The calls the server answered as lacking.
    lacking: Mutex<BTreeSet<Call>>,
    /// The calls the server was seen to serve.
    served: Mutex<BTreeSet<Call>>,
    /// Whether the session options were changed since connect (a reset restores them).
    session_changed: AtomicBool,
    /// Least recently used first.
    cache: Mutex<Vec<Cached>>,
    /// The executions of this connection's cursors, to end those still running when the
    /// connection is reset for its next user.
    executions: Mutex<Vec<std::sync::Weak<dyn Tracked>>>,
}

/// A cursor's current execution, as a reset of its connection sees it.
#[async_trait::async_trait]
pub(crate) trait Tracked: Send + Sync {
    /// Whether its statement may still be running: started, and neither read to its end nor
    /// released.
    fn running(&self) -> bool;

    /// Ends it, here and on the server, as its cancel token would.
    async fn end(&self);
}

impl Session {
    pub(crate) fn new(client: FlightSqlClient) -> Session {
        Session {
            client,
            transaction: tokio::sync::Mutex::new(Transaction::Auto),
            autocommit: AtomicBool::new(true),
            abandoned: Mutex::new(Vec::new()),
            server_info: tokio::sync::OnceCell::new(),
            needs_catalog: tokio::sync::OnceCell::new(),
            lacking: Mutex::new(BTreeSet::new()),
            served: Mutex::new(BTreeSet::new()),
            session_changed: AtomicBool::new(false),
            cache: Mutex::new(Vec::new()),
            executions: Mutex::new(Vec::new()),
        }
    }

    /// Registers a cursor's execution (forgotten when the cursor is gone).
    pub(crate) fn track(&self, execution: std::sync::Weak<dyn Tracked>) {
        let mut executions = self
            .executions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        executions.retain(|e| e.strong_count() > 0);
        executions.push(execution);
    }

    /// Ends every statement of this connection's cursors still running; how many there were.
    async fn end_running(&self) -> usize {
        let running: Vec<_> = self
            .executions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .filter(|e| e.running())
            .collect();
        for execution in &running {
            execution.end().await;
        }
        running.len()
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

    /// Whether the server was found to lack a call.
    pub(crate) fn lacks(&self, call: Call) -> bool {
        self.lacking
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&call)
    }

    /// Learns from an answer whether the server lacks a call: `Ok(None)` (and remembered)
    /// when it does, the answer otherwise. The one place that decides it, from the error's
    /// kind (see `transport::status`: `UNIMPLEMENTED`, and the other codes servers use with a
    /// message saying so).
    pub(crate) fn learn<T>(&self, call: Call, answer: Result<T>) -> Result<Option<T>> {
        match answer {
            Err(e) if e.is_not_supported() => {
                self.lacks_from_now(call, &e);
                Ok(None)
            }
            other => other.map(Some),
        }
    }

    /// Remembers that the server lacks a call, from an error that says so in its own words.
    pub(crate) fn lacks_from_now(&self, call: Call, error: &Error) {
        tracing::debug!(?call, error = %error, "the server lacks this call");
        self.lacking
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(call);
    }

    /// Remembers that the server served a call.
    pub(crate) fn confirm(&self, call: Call) {
        self.served
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(call);
    }

    /// Whether the server runs updates sent through `DoPut`. Prepared updates go there only
    /// when it does: one server answers `CommandPreparedStatementUpdate` with a count of -1
    /// without running the statement, while it refuses `CommandStatementUpdate`. Unless a
    /// statement update already told, an empty `CommandStatementUpdate` (which runs nothing
    /// anywhere) asks, once per connection.
    pub(crate) async fn supports_do_put_updates(&self) -> Result<bool> {
        if self.lacks(Call::DoPutUpdate) {
            return Ok(false);
        }
        let served = self
            .served
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&Call::DoPutUpdate);
        if served {
            return Ok(true);
        }
        let probe = self.client.execute_update("", None).await;
        match self.learn(Call::DoPutUpdate, probe) {
            Ok(None) => Ok(false),
            // Served: an empty statement is nothing to do, or an error of the statement.
            Ok(Some(_)) => {
                self.confirm(Call::DoPutUpdate);
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    dbapi::ErrorKind::Programming
                        | dbapi::ErrorKind::Data
                        | dbapi::ErrorKind::Database
                        | dbapi::ErrorKind::Internal
                ) =>
            {
                self.confirm(Call::DoPutUpdate);
                Ok(true)
            }
            Err(e) => Err(e.context("asking whether the server runs updates through DoPut")),
        }
    }

    /// The transaction state, locked, with what dropped guards left undone first.
    async fn state(&self) -> tokio::sync::MutexGuard<'_, Transaction> {
        let mut state = self.transaction.lock().await;
        let abandoned = std::mem::take(
            &mut *self
                .abandoned
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for what in abandoned {
            if let Err(e) = self.undo(&mut state, &what).await {
                tracing::warn!(error = %e, ?what, "undoing what a dropped guard left open failed");
            }
        }
        state
    }

    /// Rolls back an abandoned transaction (autocommit on again) or to an abandoned
    /// savepoint.
    async fn undo(&self, state: &mut Transaction, what: &Abandoned) -> Result<()> {
        match what {
            Abandoned::Savepoint(name) => match savepoint(state, name) {
                Some((current, index)) => self.end_savepoint_at(current, index, false).await,
                None => Ok(()),
            },
            _ => self.back_to_autocommit(state).await,
        }
    }

    /// Autocommit on, the open transaction (if any) rolled back.
    async fn back_to_autocommit(&self, state: &mut Transaction) -> Result<()> {
        let Transaction::Manual { open } = state else {
            return Ok(());
        };
        let current = open.take();
        *state = Transaction::Auto;
        self.autocommit.store(true, Ordering::SeqCst);
        match current {
            Some(current) => self.finish(&current.id, false).await,
            None => Ok(()),
        }
    }

    /// Releases the savepoint at `index` of the open transaction, or rolls back to it; the
    /// savepoints made after it end with it, and rolling back keeps it.
    async fn end_savepoint_at(
        &self,
        current: &mut Open,
        index: usize,
        release: bool,
    ) -> Result<()> {
        let id = current.savepoints[index].1.clone();
        self.client.end_savepoint(&id, release).await?;
        current
            .savepoints
            .truncate(if release { index } else { index + 1 });
        Ok(())
    }

    /// Notes what a dropped guard left open, to be undone before the next use of the
    /// transaction state; starts undoing it now in the background when a Tokio runtime is at
    /// hand. Never blocks.
    pub(crate) fn abandon(self: &Arc<Self>, what: Abandoned) {
        if matches!(what, Abandoned::Transaction) {
            self.autocommit.store(true, Ordering::SeqCst);
        }
        self.abandoned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(what);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let session = Arc::clone(self);
            runtime.spawn(async move { drop(session.state().await) });
        }
    }

    pub(crate) fn autocommit(&self) -> bool {
        self.autocommit.load(Ordering::SeqCst)
    }

    pub(crate) async fn set_autocommit(&self, on: bool) -> Result<()> {
        self.check_open()?;
        if !on && !self.capabilities().await.transactions {
            return Err(Error::not_supported(
                "turning autocommit off: the server has no transactions (its SqlInfo \
                 FLIGHT_SQL_SERVER_TRANSACTION is not TRANSACTION or SAVEPOINT)",
            ));
        }
        let mut state = self.state().await;
        match (&mut *state, on) {
            (Transaction::Auto, true) | (Transaction::Manual { .. }, false) => return Ok(()),
            (Transaction::Auto, false) => *state = Transaction::Manual { open: None },
            (Transaction::Manual { open }, true) => {
                if let Some(open) = open.take() {
                    // Committed and switched under one lock: no statement starts between.
                    if let Err(e) = self.finish(&open.id, true).await {
                        *state = Transaction::Manual { open: Some(open) };
                        return Err(e);
                    }
                }
                *state = Transaction::Auto;
            }
        }
        self.autocommit.store(on, Ordering::SeqCst);
        Ok(())
    }

    /// The transaction statements run in: none in autocommit mode; else the current one,
    /// begun now if none is open.
    pub(crate) async fn transaction(&self) -> Result<Option<Bytes>> {
        let mut state = self.state().await;
        match &mut *state {
            Transaction::Auto => Ok(None),
            Transaction::Manual { open } => Ok(Some(self.begun(open).await?.id.clone())),
        }
    }

    /// The open transaction of manual-commit mode, begun now if none is open.
    async fn begun<'a>(&self, open: &'a mut Option<Open>) -> Result<&'a mut Open> {
        if open.is_none() {
            *open = Some(Open {
                id: self.client.begin_transaction().await?,
                savepoints: Vec::new(),
            });
        }
        open.as_mut()
            .ok_or_else(|| Error::internal("no transaction after beginning one"))
    }

    /// Commits or rolls back the open transaction, if any.
    pub(crate) async fn end_transaction(&self, commit: bool) -> Result<()> {
        self.check_open()?;
        let mut state = self.state().await;
        let Transaction::Manual { open } = &mut *state else {
            return Ok(());
        };
        let Some(current) = open.take() else {
            return Ok(());
        };
        self.finish(&current.id, commit).await
    }

    /// Ends a transaction on the server and forgets its cached statements.
    async fn finish(&self, id: &Bytes, commit: bool) -> Result<()> {
        self.forget_statements_of(id);
        self.client.end_transaction(id, commit).await
    }

    pub(crate) async fn savepoint(&self, name: &str) -> Result<()> {
        self.check_open()?;
        let not_in_transaction =
            || Error::interface("savepoints live in a transaction: turn autocommit off first");
        if self.autocommit() {
            return Err(not_in_transaction());
        }
        if !self.capabilities().await.savepoints {
            return Err(Error::not_supported(
                "savepoints: the server does not support them (its SqlInfo \
                 FLIGHT_SQL_SERVER_TRANSACTION is not SAVEPOINT)",
            ));
        }
        let mut state = self.state().await;
        let Transaction::Manual { open } = &mut *state else {
            return Err(not_in_transaction());
        };
        let current = self.begun(open).await?;
        let id = self.client.begin_savepoint(&current.id, name).await?;
        current.savepoints.retain(|(n, _)| n != name);
        current.savepoints.push((name.to_owned(), id));
        Ok(())
    }

    pub(crate) async fn end_savepoint(&self, name: &str, release: bool) -> Result<()> {
        self.check_open()?;
        let mut state = self.state().await;
        let (current, index) = savepoint(&mut state, name)
            .ok_or_else(|| Error::programming(format!("no savepoint named {name:?}")))?;
        self.end_savepoint_at(current, index, release).await
    }

    /// Back to the state of a new connection: the open transaction rolled back, autocommit
    /// on, and the session options as at connect (the server's session closed, the URL's
    /// catalog and schema set again).
    pub(crate) async fn reset(&self) -> Result<()> {
        self.check_open()?;
        // A statement a cursor of the last user left running is not the next user's.
        let ended = self.end_running().await;
        if ended > 0 {
            tracing::info!(statements = ended, "reset ended statements still running");
        }
        self.back_to_autocommit(&mut *self.state().await).await?;
        if self.session_changed.swap(false, Ordering::SeqCst) {
            match self.client.close_session().await {
                Ok(()) => {}
                Err(e) if e.is_not_supported() => self.client.forget_session(),
                Err(e) => return Err(e.context("resetting the session options")),
            }
            self.client.apply_url_session_options().await?;
        }
        Ok(())
    }

    /// Notes that the session options changed (a reset restores them).
    pub(crate) fn session_changed(&self) {
        self.session_changed.store(true, Ordering::SeqCst);
    }

    /// Asks the server to cancel a query, as a best effort: `CancelFlightInfo`, or the
    /// deprecated `CancelQuery` when the server lacks the former. A server that lacks both is
    /// remembered and not asked again.
    pub(crate) async fn cancel(&self, info: &FlightInfo) -> Result<()> {
        if info.endpoint.is_empty() {
            return Ok(());
        }
        tracing::debug!(endpoints = info.endpoint.len(), "cancelling a query");
        // A server that said it cannot cancel is not asked (its SqlInfo is not probed for
        // this: a cancel does not wait for a round trip it does not need).
        if let Some(info) = self.server_info.get()
            && Capabilities::of(info).cancel == Some(false)
        {
            tracing::debug!("the server says it cannot cancel queries: cancelled locally");
            return Ok(());
        }
        if !self.lacks(Call::CancelFlightInfo) {
            let answer = self.client.cancel_flight_info(info).await;
            if let Some(outcome) = self.learn(Call::CancelFlightInfo, answer)? {
                tracing::debug!(?outcome, "CancelFlightInfo answered");
                return Ok(());
            }
        }
        if !self.lacks(Call::CancelQuery) {
            let answer = self.client.cancel_query(info).await;
            if let Some(outcome) = self.learn(Call::CancelQuery, answer)? {
                tracing::debug!(?outcome, "CancelQuery answered");
                return Ok(());
            }
        }
        tracing::debug!("the server lacks CancelFlightInfo and CancelQuery: cancelled locally");
        Ok(())
    }

    /// A prepared statement for `sql` in `transaction`: a cached one (taken out of the
    /// cache: the caller has it alone) or a new one. The guard gives it back to the cache
    /// when the caller says [`TakenStatement::keep`], and closes it on the server when it is
    /// dropped otherwise (a failed use, or a future dropped midway).
    pub(crate) async fn take_statement(
        &self,
        sql: &str,
        transaction: Option<&Bytes>,
    ) -> Result<TakenStatement<'_>> {
        let cached = {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache
                .iter()
                .rposition(|c| c.sql == sql && c.transaction.as_ref() == transaction)
                .map(|i| cache.remove(i).statement)
        };
        let statement = match cached {
            Some(statement) => statement,
            None => self.client.prepare(sql, transaction).await?,
        };
        Ok(TakenStatement {
            session: self,
            sql: sql.to_owned(),
            transaction: transaction.cloned(),
            statement,
            kept: false,
        })
    }

    /// Returns a statement to the cache; the least recently used one beyond the cache's
    /// size is closed on the server (in the background).
    fn give_back(&self, sql: String, transaction: Option<Bytes>, statement: PreparedHandle) {
        let capacity = self.client.config().statement_cache();
        let evicted: Vec<PreparedHandle> = {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache.push(Cached {
                sql,
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
        let open = match std::mem::take(&mut *self.state().await) {
            Transaction::Manual { open } => open,
            Transaction::Auto => None,
        };
        let rollback = match open {
            Some(current) => self.client.end_transaction(&current.id, false).await,
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
        let transaction = match std::mem::take(self.transaction.get_mut()) {
            Transaction::Manual { open } => open.map(|o| o.id),
            Transaction::Auto => None,
        };
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
/// A statement taken from a session's cache (or prepared for it): given back when dropped
/// after [`keep`](TakenStatement::keep), closed on the server when dropped without it.
pub(crate) struct TakenStatement<'s> {
    session: &'s Session,
    sql: String,
    transaction: Option<Bytes>,
    statement: PreparedHandle,
    kept: bool,
}

impl TakenStatement<'_> {
    /// The statement.
    pub(crate) fn handle(&mut self) -> &mut PreparedHandle {
        &mut self.statement
    }

    /// Gives the statement back to the cache, for the next execution of the same SQL.
    pub(crate) fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for TakenStatement<'_> {
    fn drop(&mut self) {
        // Handles are shared bytes: the copy costs a reference count.
        let statement = self.statement.clone();
        if self.kept {
            let (sql, transaction) = (std::mem::take(&mut self.sql), self.transaction.take());
            self.session.give_back(sql, transaction, statement);
        } else {
            // The handle may be what failed, or its use was abandoned: do not keep it.
            close_in_background(&self.session.client, statement);
        }
    }
}

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

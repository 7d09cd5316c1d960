//! The `Cursor` trait, and the token that cancels what a cursor runs.

use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};

use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::{Column, Error, ParamSets, Params, Result, Row};

/// What a driver does to cancel; see [`CancelToken`].
#[async_trait]
pub trait Cancel: Send + Sync + std::fmt::Debug {
    /// Cancels the cursor's current statement.
    ///
    /// # Errors
    /// When the server could not be told (the local side is cancelled all the same).
    async fn cancel(&self) -> Result<()>;
}

/// A handle that cancels what a cursor is executing or fetching, usable from another task
/// while the cursor is busy (like tokio-postgres' `CancelToken`).
///
/// Cancelling stops the cursor's open streams, asks the server to stop the query, and makes
/// the cursor's pending and next fetches of that result fail with an error for which
/// [`Error::is_cancelled`](crate::Error::is_cancelled) holds. The cursor can execute again
/// afterwards. Cancelling when nothing runs does nothing.
#[derive(Debug, Clone)]
pub struct CancelToken {
    inner: Arc<dyn Cancel>,
}

impl CancelToken {
    /// Wraps a driver's [`Cancel`].
    pub fn new(inner: Arc<dyn Cancel>) -> Self {
        CancelToken { inner }
    }

    /// Cancels the cursor's current statement.
    ///
    /// # Errors
    /// When the server could not be told (the cursor is cancelled all the same).
    pub async fn cancel(&self) -> Result<()> {
        self.inner.cancel().await
    }
}

/// The default [`Cursor::arraysize`].
pub const DEFAULT_ARRAYSIZE: usize = 1;

/// How far the reading of a result has come ([`Cursor::fetch_progress`]), for progress
/// displays.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct FetchProgress {
    /// The parts of the result read to their end (for Flight SQL, the endpoints).
    pub parts_done: usize,
    /// The parts of the result, when known (`None` while a server is still producing them, or
    /// when the driver does not read results in parts).
    pub parts_total: Option<usize>,
    /// The server's progress on the statement, from 0.0 to 1.0, when known.
    pub server: Option<f64>,
}

impl FetchProgress {
    /// A progress report: `parts_done` of `parts_total` parts read, the server's progress.
    pub fn new(parts_done: usize, parts_total: Option<usize>, server: Option<f64>) -> Self {
        FetchProgress {
            parts_done,
            parts_total,
            server,
        }
    }
}

/// A cursor: executes statements and fetches their results (PEP 249 `Cursor`).
///
/// Results can be read as rows ([`fetchone`](Cursor::fetchone),
/// [`fetchmany`](Cursor::fetchmany), [`fetchall`](Cursor::fetchall), [`rows`](Cursor::rows))
/// or as Arrow record batches ([`fetch_batch`](Cursor::fetch_batch),
/// [`fetch_all_batches`](Cursor::fetch_all_batches), [`batches`](Cursor::batches)); both
/// views read the same result, and mixing them loses and repeats nothing: a batch fetched after
/// some rows holds the rows not yet fetched.
#[async_trait]
pub trait Cursor: std::any::Any + Send + std::fmt::Debug {
    /// Executes a statement, replacing any previous result of this cursor.
    ///
    /// Parameters are bound by the server, never pasted into the SQL text; the placeholder
    /// syntax (`?`, `$1`, `$name`) is the server's. A query leaves a result to fetch; a
    /// statement that changes data leaves no result and sets [`rowcount`](Cursor::rowcount)
    /// to the number of rows affected.
    ///
    /// # Errors
    /// A parameter that does not fit the statement
    /// ([`ErrorKind::Programming`](crate::ErrorKind::Programming) or
    /// [`ErrorKind::Data`](crate::ErrorKind::Data), naming the parameter);
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) for parameters the driver
    /// cannot bind; otherwise the server's error, mapped to a kind.
    async fn execute(&mut self, sql: &str, params: Params) -> Result<()>;

    /// Executes a statement that changes data and returns the number of rows it affected
    /// (-1 when the server does not say), also left in [`rowcount`](Cursor::rowcount).
    ///
    /// # Errors
    /// As [`Cursor::execute`].
    async fn execute_update(&mut self, sql: &str, params: Params) -> Result<i64> {
        self.execute(sql, params).await?;
        Ok(self.rowcount())
    }

    /// Executes a statement once for each parameter set, a chunk of sets at a time (each
    /// chunk as one batch of parameters where the driver and server allow it; see
    /// [`ParamSets`]); [`rowcount`](Cursor::rowcount) is then the total number of rows
    /// affected (-1 when the server did not say for some chunk). Pass a `Vec<Params>` with
    /// `.into()`, or any iterator through [`ParamSets::new`].
    ///
    /// The chunks run one after another; when one fails, the chunks before it have run
    /// (in autocommit mode, committed): use a transaction to make the whole atomic.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver supports
    /// it; otherwise as [`Cursor::execute`], naming the parameter set.
    async fn executemany(&mut self, sql: &str, params: ParamSets<'_>) -> Result<()> {
        let _ = (sql, params);
        Err(Error::not_supported(
            "executemany is not supported by this driver",
        ))
    }

    /// Executes a statement with its parameters given as an Arrow record batch (one row per
    /// parameter set, one column per parameter), for Arrow users.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver supports
    /// it; otherwise as [`Cursor::execute`].
    async fn execute_arrow(&mut self, sql: &str, params: RecordBatch) -> Result<()> {
        let _ = (sql, params);
        Err(Error::not_supported(
            "binding an Arrow record batch is not supported by this driver",
        ))
    }

    /// A token that cancels this cursor's current (or next) statement from another task.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver supports
    /// cancellation.
    fn cancel_token(&self) -> Result<CancelToken> {
        Err(Error::not_supported(
            "cancellation is not supported by this driver",
        ))
    }

    /// Bounds each later statement of this cursor, from `execute` to its last row: when
    /// `timeout` expires the statement is cancelled (on the server too, where the driver
    /// can) and the pending call or next fetch fails with a timeout error
    /// ([`Error::is_timeout`]). `None` goes back to the driver's default (for Flight SQL,
    /// the URL key `statement_timeout`).
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver supports
    /// statement timeouts.
    fn set_timeout(&mut self, timeout: Option<std::time::Duration>) -> Result<()> {
        let _ = timeout;
        Err(Error::not_supported(
            "statement timeouts are not supported by this driver",
        ))
    }

    /// The server's progress on the current statement, from 0.0 to 1.0, when the driver
    /// polls for it (e.g. Flight SQL's `PollFlightInfo`); `None` when unknown.
    fn progress(&self) -> Option<f64> {
        None
    }

    /// How far the reading of the current result has come: the parts (for Flight SQL, the
    /// endpoints) read and known, and the server's [`progress`](Cursor::progress). Drivers
    /// that do not read results in parts report only the server's progress.
    fn fetch_progress(&self) -> FetchProgress {
        FetchProgress {
            parts_done: 0,
            parts_total: None,
            server: self.progress(),
        }
    }

    /// The columns of the current result, or `None` when there is no result (or, for servers
    /// that announce no schema, before the first fetch).
    fn description(&self) -> Option<&[Column]>;

    /// The Arrow schema of the current result, once known (for servers that announce none,
    /// after the first fetch); `None` by default.
    fn schema(&self) -> Option<arrow::datatypes::SchemaRef> {
        None
    }

    /// The number of rows of the last statement, or -1 when not known (yet).
    fn rowcount(&self) -> i64;

    /// The number of rows [`fetchmany`](Cursor::fetchmany) fetches by default.
    fn arraysize(&self) -> usize;

    /// Sets [`arraysize`](Cursor::arraysize) (0 is taken as 1).
    fn set_arraysize(&mut self, size: usize);

    /// The next row, or `None` when the result is exhausted.
    ///
    /// # Errors
    /// [`ErrorKind::Interface`](crate::ErrorKind::Interface) before `execute` or after
    /// `close`; transport and decoding errors of the driver.
    async fn fetchone(&mut self) -> Result<Option<Row>>;

    /// Up to `size` rows (`None`: [`arraysize`](Cursor::arraysize)); fewer only at the end of
    /// the result.
    ///
    /// # Errors
    /// As [`fetchone`](Cursor::fetchone).
    async fn fetchmany(&mut self, size: Option<usize>) -> Result<Vec<Row>>;

    /// All remaining rows.
    ///
    /// # Errors
    /// As [`fetchone`](Cursor::fetchone).
    async fn fetchall(&mut self) -> Result<Vec<Row>>;

    /// The next Arrow record batch, or `None` when the result is exhausted.
    ///
    /// # Errors
    /// As [`fetchone`](Cursor::fetchone).
    async fn fetch_batch(&mut self) -> Result<Option<RecordBatch>>;

    /// All remaining record batches.
    ///
    /// # Errors
    /// As [`fetchone`](Cursor::fetchone).
    async fn fetch_all_batches(&mut self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        while let Some(batch) = self.fetch_batch().await? {
            out.push(batch);
        }
        Ok(out)
    }

    /// The remaining record batches as a stream; it ends after the first error.
    fn batches(&mut self) -> BoxStream<'_, Result<RecordBatch>> {
        batches_of(self).boxed()
    }

    /// The remaining rows as a stream; it ends after the first error.
    fn rows(&mut self) -> BoxStream<'_, Result<Row>> {
        stream::unfold((self, false), |(cursor, failed)| async move {
            if failed {
                return None;
            }
            match cursor.fetchone().await {
                Ok(Some(row)) => Some((Ok(row), (cursor, false))),
                Ok(None) => None,
                Err(e) => Some((Err(e), (cursor, true))),
            }
        })
        .boxed()
    }

    /// Closes the cursor and releases its result (open streams are cancelled). Later calls
    /// fail with an [`ErrorKind::Interface`](crate::ErrorKind::Interface) error. Closing twice
    /// is harmless.
    ///
    /// # Errors
    /// When the driver fails to release server-side resources.
    async fn close(&mut self) -> Result<()>;

    /// Whether [`Cursor::close`] was called (or the connection was closed).
    fn is_closed(&self) -> bool;
}

/// The remaining batches of a cursor, borrowed or owned, as a stream that ends after the
/// first error: [`Cursor::batches`] and the owned [`BatchStream`](crate::BatchStream).
pub(crate) fn batches_of<C>(cursor: C) -> impl futures::Stream<Item = Result<RecordBatch>> + Send
where
    C: std::ops::DerefMut + Send,
    C::Target: Cursor,
{
    stream::unfold((cursor, false), |(mut cursor, failed)| async move {
        if failed {
            return None;
        }
        match cursor.fetch_batch().await {
            Ok(Some(batch)) => Some((Ok(batch), (cursor, false))),
            Ok(None) => None,
            Err(e) => Some((Err(e), (cursor, true))),
        }
    })
}

impl dyn Cursor {
    /// The cursor as the driver's own type, for driver-specific calls (`None` when it is
    /// another driver's).
    #[doc(alias = "as_any")]
    pub fn downcast_ref<T: Cursor>(&self) -> Option<&T> {
        (self as &dyn std::any::Any).downcast_ref()
    }

    /// As `downcast_ref`, mutably.
    #[doc(alias = "as_any_mut")]
    pub fn downcast_mut<T: Cursor>(&mut self) -> Option<&mut T> {
        (self as &mut dyn std::any::Any).downcast_mut()
    }
}

/// Typed fetches for every [`Cursor`] (including `dyn Cursor`): rows deserialized with
/// `serde` into the caller's type, as [`Row::deserialize`] does.
///
/// ```no_run
/// # async fn run(cursor: &mut dyn dbapi::Cursor) -> dbapi::Result<()> {
/// use dbapi::{CursorExt, Params};
///
/// #[derive(serde::Deserialize)]
/// struct Reading {
///     sensor: String,
///     temperature: Option<f64>,
/// }
///
/// cursor.execute("SELECT sensor, temperature FROM readings", Params::None).await?;
/// let readings: Vec<Reading> = cursor.fetchall_as().await?;
/// # Ok(()) }
/// ```
pub trait CursorExt: Cursor {
    /// The next row as a `T`, or `None` when the result is exhausted.
    ///
    /// # Errors
    /// As [`Cursor::fetchone`], and [`Row::deserialize`]'s errors.
    fn fetchone_as<T: DeserializeOwned + Send>(
        &mut self,
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        async move {
            match self.fetchone().await? {
                Some(row) => row.deserialize().map(Some),
                None => Ok(None),
            }
        }
    }

    /// Up to `size` rows as `T`s (`None`: [`Cursor::arraysize`]).
    ///
    /// # Errors
    /// As [`Cursor::fetchmany`], and [`Row::deserialize`]'s errors.
    fn fetchmany_as<T: DeserializeOwned + Send>(
        &mut self,
        size: Option<usize>,
    ) -> impl Future<Output = Result<Vec<T>>> + Send {
        async move {
            let rows = self.fetchmany(size).await?;
            rows.iter().map(Row::deserialize).collect()
        }
    }

    /// All remaining rows as `T`s, converted straight from each batch as it arrives, so only
    /// the `T`s accumulate.
    ///
    /// # Errors
    /// As [`Cursor::fetchall`], and [`Row::deserialize`]'s errors.
    fn fetchall_as<T: DeserializeOwned + Send>(
        &mut self,
    ) -> impl Future<Output = Result<Vec<T>>> + Send {
        async move {
            // Straight from the batches: no `Row` per row.
            let mut out = Vec::new();
            let mut batches = crate::from_row::DescribedBatches::new();
            while let Some(batch) = self.fetch_batch().await? {
                let (data, _) = batches.rows(&batch)?;
                out.reserve(data.len);
                for index in 0..data.len {
                    out.push(crate::de::row(&data, index)?);
                }
            }
            Ok(out)
        }
    }

    /// The only row of the result: an error unless there is exactly one.
    ///
    /// ```
    /// # async fn run(cursor: &mut dyn dbapi::Cursor) -> dbapi::Result<()> {
    /// use dbapi::{CursorExt, params};
    ///
    /// cursor.execute("SELECT name FROM users WHERE id = $1", params![7]).await?;
    /// let row = cursor.fetch_one().await?;
    /// let name: &str = row.get(0)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// An [`ErrorKind::Data`](crate::ErrorKind::Data) error saying how many rows there were
    /// when there were none or more than one (the rows after the second are counted, up to
    /// 10,000); otherwise as [`Cursor::fetchone`].
    #[doc(alias = "fetchone")]
    fn fetch_one(&mut self) -> impl Future<Output = Result<Row>> + Send {
        async move {
            match self.fetch_optional().await? {
                Some(row) => Ok(row),
                None => Err(Error::data("expected exactly one row, the result has none")),
            }
        }
    }

    /// The only row of the result, or `None` when it has none: an error when it has more.
    ///
    /// # Errors
    /// An [`ErrorKind::Data`](crate::ErrorKind::Data) error saying how many rows there were
    /// when there was more than one; otherwise as [`Cursor::fetchone`].
    #[doc(alias = "fetchone")]
    fn fetch_optional(&mut self) -> impl Future<Output = Result<Option<Row>>> + Send {
        async move {
            let Some(first) = self.fetchone().await? else {
                return Ok(None);
            };
            if self.fetchone().await?.is_none() {
                return Ok(Some(first));
            }
            let mut rows = 2;
            while rows <= COUNT_LIMIT {
                match self.fetch_batch().await? {
                    Some(batch) => rows += batch.num_rows(),
                    None => {
                        return Err(Error::data(format!(
                            "expected at most one row, the result has {rows}"
                        )));
                    }
                }
            }
            Err(Error::data(format!(
                "expected at most one row, the result has more than {COUNT_LIMIT}"
            )))
        }
    }

    /// The first column of the only row of the result, as a `T` (`Option<T>` when it may be
    /// NULL).
    ///
    /// ```
    /// # async fn run(cursor: &mut dyn dbapi::Cursor) -> dbapi::Result<()> {
    /// use dbapi::{CursorExt, Params};
    ///
    /// cursor.execute("SELECT count(*) FROM users", Params::None).await?;
    /// let users: i64 = cursor.fetch_scalar().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`CursorExt::fetch_one`]; an [`ErrorKind::Programming`](crate::ErrorKind::Programming)
    /// error when the result has no column; the conversion's error, naming the column and
    /// both types (NULL into a type that is not an `Option` among them).
    fn fetch_scalar<T>(&mut self) -> impl Future<Output = Result<T>> + Send
    where
        T: for<'a> crate::FromValueRef<'a> + Send,
    {
        async move {
            let row = self.fetch_one().await?;
            if row.is_empty() {
                return Err(Error::programming(
                    "a scalar was asked for, but the result has no column",
                ));
            }
            row.get(0)
        }
    }

    /// [`CursorExt::fetch_one`] as a `T` (see [`Row::deserialize`]).
    ///
    /// # Errors
    /// As [`CursorExt::fetch_one`], and [`Row::deserialize`]'s errors.
    fn fetch_one_as<T: DeserializeOwned + Send>(
        &mut self,
    ) -> impl Future<Output = Result<T>> + Send {
        async move { self.fetch_one().await?.deserialize() }
    }

    /// [`CursorExt::fetch_optional`] as a `T` (see [`Row::deserialize`]).
    ///
    /// # Errors
    /// As [`CursorExt::fetch_optional`], and [`Row::deserialize`]'s errors.
    fn fetch_optional_as<T: DeserializeOwned + Send>(
        &mut self,
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        async move {
            match self.fetch_optional().await? {
                Some(row) => row.deserialize().map(Some),
                None => Ok(None),
            }
        }
    }

    /// All remaining rows as `T`s through [`FromRow`](crate::FromRow) (`#[derive(FromRow)]`
    /// or a tuple): read batch by batch, the columns found and downcast once per batch, each
    /// field read straight from its Arrow array. The fastest way to typed rows.
    ///
    /// ```
    /// # async fn run(cursor: &mut dyn dbapi::Cursor) -> dbapi::Result<()> {
    /// use dbapi::{CursorExt, FromRow, params};
    ///
    /// #[derive(FromRow)]
    /// struct Reading {
    ///     sensor: String,
    ///     time: chrono::NaiveDateTime,
    ///     temperature: Option<f64>,
    /// }
    ///
    /// cursor.execute("SELECT sensor, time, temperature FROM readings", params![]).await?;
    /// let readings: Vec<Reading> = cursor.fetchall_typed().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Cursor::fetch_batch`], [`FromRow::plan`](crate::FromRow::plan) and
    /// [`FromRow::from_row`](crate::FromRow::from_row).
    fn fetchall_typed<T: crate::FromRow + Send>(
        &mut self,
    ) -> impl Future<Output = Result<Vec<T>>> + Send {
        async move {
            let mut out = Vec::new();
            let mut typed = crate::from_row::TypedBatches::new();
            while let Some(batch) = self.fetch_batch().await? {
                typed.extend(&batch, &mut out)?;
            }
            Ok(out)
        }
    }

    /// The rows of the next batch (or the unread rest of a batch partly read as rows), to be
    /// iterated without an `await` per row; `None` when the result is exhausted. The fastest
    /// way to read a result row by row:
    ///
    /// ```
    /// # async fn run(cursor: &mut dyn dbapi::Cursor) -> dbapi::Result<()> {
    /// use dbapi::{CursorExt, params};
    ///
    /// cursor.execute("SELECT id, name FROM users", params![]).await?;
    /// while let Some(rows) = cursor.fetch_rows().await? {
    ///     for row in rows {
    ///         let (id, name): (i64, &str) = (row.get(0)?, row.get(1)?);
    ///         println!("{id}: {name}");
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Cursor::fetch_batch`].
    fn fetch_rows(&mut self) -> impl Future<Output = Result<Option<crate::BatchRows>>> + Send {
        async move {
            Ok(self
                .fetch_batch()
                .await?
                .map(|batch| crate::BatchRows::new(&batch)))
        }
    }

    /// The next row as a `T` through [`FromRow`](crate::FromRow), or `None` at the end.
    ///
    /// # Errors
    /// As [`Cursor::fetchone`] and [`Row::read`].
    fn fetchone_typed<T: crate::FromRow + Send>(
        &mut self,
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        async move {
            match self.fetchone().await? {
                Some(row) => row.read().map(Some),
                None => Ok(None),
            }
        }
    }

    /// [`CursorExt::fetch_one`] as a `T` through [`FromRow`](crate::FromRow).
    ///
    /// # Errors
    /// As [`CursorExt::fetch_one`] and [`Row::read`].
    fn fetch_one_typed<T: crate::FromRow + Send>(
        &mut self,
    ) -> impl Future<Output = Result<T>> + Send {
        async move { self.fetch_one().await?.read() }
    }

    /// [`CursorExt::fetch_optional`] as a `T` through [`FromRow`](crate::FromRow).
    ///
    /// # Errors
    /// As [`CursorExt::fetch_optional`] and [`Row::read`].
    fn fetch_optional_typed<T: crate::FromRow + Send>(
        &mut self,
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        async move {
            match self.fetch_optional().await? {
                Some(row) => row.read().map(Some),
                None => Ok(None),
            }
        }
    }

    /// The number of rows the last statement affected, `None` when the driver or the server
    /// did not say ([`Cursor::rowcount`] without its `-1`).
    #[doc(alias = "rowcount")]
    fn rows_affected(&self) -> Option<u64> {
        u64::try_from(self.rowcount()).ok()
    }

    /// The remaining rows as a stream of `T`s; it ends after the first error.
    fn rows_as<T: DeserializeOwned + Send + 'static>(&mut self) -> BoxStream<'_, Result<T>> {
        self.rows()
            .map(|row| row.and_then(|row| row.deserialize()))
            .boxed()
    }
}

impl<C: Cursor + ?Sized> CursorExt for C {}

/// How many rows [`CursorExt::fetch_optional`] counts before it says "more than".
const COUNT_LIMIT: usize = 10_000;

//! Row and batch views over a stream of record batches, for drivers.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;

use crate::reader::RowData;
use crate::row::describe;
use crate::{Column, Error, Result, Row};

/// A source of record batches: what a driver provides for one result.
#[async_trait]
pub trait BatchSource: Send + std::fmt::Debug {
    /// The next batch, or `None` at the end of the result.
    ///
    /// # Errors
    /// Any transport or decoding error of the driver.
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>>;

    /// The schema of the result, once known (it may become known only after the first
    /// `next_batch`, even for a result without batches).
    fn schema(&self) -> Option<SchemaRef>;

    /// The columns of a schema of this result; by default [`describe`]. Drivers whose servers
    /// say more than the Arrow types (SQL type names, tables) override it.
    fn describe(&self, schema: &Schema) -> Arc<[Column]> {
        describe(schema)
    }
}

/// A [`BatchSource`] over record batches already in memory.
#[derive(Debug, Default)]
pub struct Batches {
    schema: Option<SchemaRef>,
    batches: VecDeque<RecordBatch>,
}

impl Batches {
    /// A source of these batches; `schema` is the result's schema when there are none.
    pub fn new(schema: Option<SchemaRef>, batches: Vec<RecordBatch>) -> Self {
        let schema = schema.or_else(|| batches.first().map(RecordBatch::schema));
        Batches {
            schema,
            batches: batches.into(),
        }
    }
}

#[async_trait]
impl BatchSource for Batches {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        Ok(self.batches.pop_front())
    }

    fn schema(&self) -> Option<SchemaRef> {
        self.schema.clone()
    }
}

/// One result of a cursor: a [`BatchSource`] read as rows or as batches.
///
/// Drivers implement [`Cursor`](crate::Cursor) by delegating the fetch methods to a
/// `ResultSet`; it keeps the partly consumed batch so that row fetches and batch fetches can
/// be mixed without losing or repeating a row, and it counts the rows handed out.
#[derive(Debug)]
pub struct ResultSet<S> {
    source: S,
    schema: Option<SchemaRef>,
    columns: Option<Arc<[Column]>>,
    current: Option<RecordBatch>,
    /// What the rows of `current` share, built on the first row fetch from it.
    rows: Option<Arc<RowData>>,
    offset: usize,
    rows_fetched: u64,
    exhausted: bool,
}

impl<S: BatchSource> ResultSet<S> {
    /// Wraps a source.
    pub fn new(source: S) -> Self {
        let schema = source.schema();
        let columns = schema.as_deref().map(|s| source.describe(s));
        ResultSet {
            source,
            schema,
            columns,
            current: None,
            rows: None,
            offset: 0,
            rows_fetched: 0,
            exhausted: false,
        }
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The schema, once known (the data's, from the first batch on).
    pub fn schema(&self) -> Option<SchemaRef> {
        self.schema.clone()
    }

    /// The column descriptions, once the schema is known.
    pub fn columns(&self) -> Option<&[Column]> {
        self.columns.as_deref()
    }

    /// The number of rows handed out so far, as rows or within batches.
    pub fn rows_fetched(&self) -> u64 {
        self.rows_fetched
    }

    /// The result's row count once it is read to its end (the rows handed out), for a
    /// cursor's [`rowcount`](crate::Cursor::rowcount); `None` before.
    pub fn rowcount(&self) -> Option<i64> {
        self.is_exhausted()
            .then(|| i64::try_from(self.rows_fetched).unwrap_or(i64::MAX))
    }

    /// Whether the source has reported the end of the result and every row was handed out.
    pub fn is_exhausted(&self) -> bool {
        self.exhausted && self.current.is_none()
    }

    /// Reads ahead to the first batch (or the end) when the schema is not known yet, so that
    /// [`columns`](ResultSet::columns) describes the result right after a statement runs:
    /// for sources whose server announced no schema before the data. Nothing is lost: the
    /// batch read is the next one fetched.
    ///
    /// # Errors
    /// The source's error.
    pub async fn read_schema(&mut self) -> Result<Option<SchemaRef>> {
        if self.schema.is_none() {
            self.fill().await?;
        }
        Ok(self.schema.clone())
    }

    /// Ensures a batch with unread rows is current; false at the end.
    async fn fill(&mut self) -> Result<bool> {
        loop {
            if let Some(batch) = &self.current {
                if self.offset < batch.num_rows() {
                    return Ok(true);
                }
                self.current = None;
                self.rows = None;
            }
            if self.exhausted {
                return Ok(false);
            }
            match self.source.next_batch().await? {
                Some(batch) => {
                    // The data's schema is authoritative: a server may announce a slightly
                    // different one (e.g. dictionary-encoded columns sent decoded).
                    let schema = batch.schema();
                    let same = self
                        .schema
                        .as_ref()
                        .is_some_and(|s| Arc::ptr_eq(s, &schema) || **s == *schema);
                    if !same {
                        self.columns = Some(self.source.describe(&schema));
                        self.schema = Some(schema);
                    }
                    self.current = Some(batch);
                    self.rows = None;
                    self.offset = 0;
                }
                None => {
                    self.exhausted = true;
                    if let Some(schema) = self.source.schema()
                        && self.schema.as_ref() != Some(&schema)
                    {
                        self.columns = Some(self.source.describe(&schema));
                        self.schema = Some(schema);
                    }
                    return Ok(false);
                }
            }
        }
    }

    /// The next row.
    ///
    /// # Errors
    /// The source's errors.
    pub async fn fetchone(&mut self) -> Result<Option<Row>> {
        if !self.fill().await? {
            return Ok(None);
        }
        let offset = self.offset;
        let row = Row::view(self.row_data()?, offset)?;
        self.offset += 1;
        self.rows_fetched += 1;
        Ok(Some(row))
    }

    /// What the rows of the current batch share, built once per batch.
    fn row_data(&mut self) -> Result<&Arc<RowData>> {
        if self.rows.is_none() {
            let (Some(batch), Some(columns)) = (&self.current, &self.columns) else {
                return Err(Error::internal("no current batch"));
            };
            self.rows = Some(Arc::new(RowData::new(columns, batch)?));
        }
        self.rows
            .as_ref()
            .ok_or_else(|| Error::internal("no current batch"))
    }

    /// Up to `size` rows.
    ///
    /// # Errors
    /// As [`ResultSet::fetchone`].
    pub async fn fetchmany(&mut self, size: usize) -> Result<Vec<Row>> {
        let mut rows = Vec::with_capacity(size.min(65_536));
        while rows.len() < size {
            if !self.fill().await? {
                break;
            }
            let len = self.current.as_ref().map_or(0, RecordBatch::num_rows);
            let start = self.offset;
            let end = start + (size - rows.len()).min(len - start);
            Row::views(self.row_data()?, start..end, &mut rows);
            self.offset = end;
            self.rows_fetched += (end - start) as u64;
        }
        Ok(rows)
    }

    /// All remaining rows. The batches are read first, so that the rows are allocated once,
    /// at their exact number.
    ///
    /// # Errors
    /// As [`ResultSet::fetchone`].
    pub async fn fetchall(&mut self) -> Result<Vec<Row>> {
        let mut parts = Vec::new();
        let mut total = 0;
        while self.fill().await? {
            let len = self.current.as_ref().map_or(0, RecordBatch::num_rows);
            let data = Arc::clone(self.row_data()?);
            total += len - self.offset;
            parts.push((data, self.offset..len));
            self.rows_fetched += (len - self.offset) as u64;
            self.offset = len;
        }
        let mut rows = Vec::with_capacity(total);
        for (data, range) in parts {
            Row::views(&data, range, &mut rows);
        }
        Ok(rows)
    }

    /// The next batch, or the unread remainder of a batch partly read as rows.
    ///
    /// # Errors
    /// The source's errors.
    pub async fn fetch_batch(&mut self) -> Result<Option<RecordBatch>> {
        if !self.fill().await? {
            return Ok(None);
        }
        self.rows = None;
        let Some(batch) = self.current.take() else {
            return Ok(None);
        };
        let batch = if self.offset == 0 {
            batch
        } else {
            batch.slice(self.offset, batch.num_rows() - self.offset)
        };
        self.offset = 0;
        self.rows_fetched += batch.num_rows() as u64;
        Ok(Some(batch))
    }
}

/// What a driver's cursor keeps between statements — the current result, the row count of
/// a statement that changed data, the fetch size, whether it is closed — with one set of
/// errors for the same mistakes in every driver: fetching from a closed cursor, before any
/// statement, or after a statement that changed data.
#[derive(Debug)]
pub struct CursorState<S> {
    result: Option<ResultSet<S>>,
    affected: Option<i64>,
    arraysize: usize,
    closed: bool,
}

impl<S: BatchSource> Default for CursorState<S> {
    fn default() -> Self {
        CursorState {
            result: None,
            affected: None,
            arraysize: crate::cursor::DEFAULT_ARRAYSIZE,
            closed: false,
        }
    }
}

impl<S: BatchSource> CursorState<S> {
    /// The state of a new cursor: open, nothing to fetch.
    pub fn new() -> Self {
        CursorState::default()
    }

    /// An error unless the cursor is open.
    ///
    /// # Errors
    /// An [`Interface`](crate::ErrorKind::Interface) error once the cursor is closed.
    pub fn check_open(&self) -> Result<()> {
        if self.closed {
            Err(Error::interface("the cursor is closed"))
        } else {
            Ok(())
        }
    }

    /// The result to fetch from.
    ///
    /// # Errors
    /// An [`Interface`](crate::ErrorKind::Interface) error when the cursor is closed, when no
    /// statement ran, or when the last one changed data (it has a row count, not rows).
    pub fn result(&mut self) -> Result<&mut ResultSet<S>> {
        self.check_open()?;
        match (&mut self.result, self.affected) {
            (Some(result), _) => Ok(result),
            (None, Some(_)) => Err(Error::interface(
                "the statement produced no rows to fetch (it changed data: see rowcount)",
            )),
            (None, None) => Err(Error::interface("no result to fetch: call execute first")),
        }
    }

    /// The current result, if any, to look at.
    pub fn current(&self) -> Option<&ResultSet<S>> {
        self.result.as_ref()
    }

    /// Forgets the last statement's outcome before the next one; answers its result (which
    /// a driver may still have to cancel).
    ///
    /// # Errors
    /// As [`check_open`](CursorState::check_open).
    pub fn start(&mut self) -> Result<Option<ResultSet<S>>> {
        self.check_open()?;
        Ok(self.clear())
    }

    /// Forgets the last statement's outcome; answers its result.
    pub fn clear(&mut self) -> Option<ResultSet<S>> {
        self.affected = None;
        self.result.take()
    }

    /// Makes `source` the result to fetch from.
    pub fn set_rows(&mut self, source: S) {
        self.affected = None;
        self.result = Some(ResultSet::new(source));
    }

    /// Records the row count of a statement that changed data (-1: unknown); it leaves no
    /// result to fetch.
    pub fn set_affected(&mut self, rows: i64) {
        self.result = None;
        self.affected = Some(rows);
    }

    /// The row count of the last statement that changed data.
    pub fn affected(&self) -> Option<i64> {
        self.affected
    }

    /// The cursor's [`rowcount`](crate::Cursor::rowcount): the rows the last statement
    /// changed; for a query, its row count once read to its end, else `announced` (what the
    /// server said it would send, when it did); else -1.
    pub fn rowcount(&self, announced: Option<i64>) -> i64 {
        if let Some(n) = self.affected {
            return n;
        }
        match &self.result {
            Some(result) if result.is_exhausted() => result.rowcount().unwrap_or(-1),
            Some(_) => announced.filter(|n| *n >= 0).unwrap_or(-1),
            None => -1,
        }
    }

    /// The columns of the current result.
    pub fn description(&self) -> Option<&[Column]> {
        self.result.as_ref()?.columns()
    }

    /// The schema of the current result.
    pub fn schema(&self) -> Option<SchemaRef> {
        self.result.as_ref()?.schema()
    }

    /// The number of rows `fetchmany` reads without a size.
    pub fn arraysize(&self) -> usize {
        self.arraysize
    }

    /// Sets [`arraysize`](CursorState::arraysize) (at least 1).
    pub fn set_arraysize(&mut self, size: usize) {
        self.arraysize = size.max(1);
    }

    /// Closes the cursor; answers the result it held.
    pub fn close(&mut self) -> Option<ResultSet<S>> {
        self.closed = true;
        self.clear()
    }

    /// Whether [`close`](CursorState::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, TimestampSecondArray};

    fn batch(values: Vec<i64>) -> RecordBatch {
        RecordBatch::try_from_iter([(
            "ts",
            Arc::new(TimestampSecondArray::from(values)) as ArrayRef,
        )])
        .unwrap()
    }

    #[tokio::test]
    async fn a_bad_value_fails_where_it_is_read_and_loses_no_rows() {
        let source = Batches::new(None, vec![batch(vec![0, 1]), batch(vec![2, i64::MAX, 4])]);
        let mut rs = ResultSet::new(source);
        let rows = rs.fetchmany(10).await.unwrap();
        assert_eq!(rows.len(), 5, "every row is handed out");
        assert_eq!(rs.rows_fetched(), 5);
        let e = rows[3].get_value("ts").unwrap_err();
        assert!(
            e.to_string().contains("out of the representable range"),
            "{e}"
        );
        assert!(
            rows[3].get::<i64, _>("ts").is_err(),
            "an integer is not a timestamp"
        );
        assert_eq!(
            rows[4].get::<chrono::NaiveDateTime, _>("ts").unwrap(),
            chrono::DateTime::from_timestamp(4, 0).unwrap().naive_utc()
        );
    }

    #[tokio::test]
    async fn fetchall_allocates_its_rows_once() {
        let source = Batches::new(None, vec![batch(vec![0, 1, 2]), batch(vec![3, 4])]);
        let mut rs = ResultSet::new(source);
        rs.fetchone().await.unwrap().unwrap();
        let rows = rs.fetchall().await.unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows.capacity(), 4);
        let seconds: Vec<i64> = rows
            .iter()
            .map(|r| {
                r.get::<chrono::NaiveDateTime, _>(0)
                    .unwrap()
                    .and_utc()
                    .timestamp()
            })
            .collect();
        assert_eq!(seconds, [1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn rows_then_batches() {
        let source = Batches::new(None, vec![batch(vec![0, 1, 2]), batch(vec![3])]);
        let mut rs = ResultSet::new(source);
        rs.fetchone().await.unwrap().unwrap();
        assert_eq!(rs.fetch_batch().await.unwrap().unwrap().num_rows(), 2);
        assert_eq!(rs.fetchall().await.unwrap().len(), 1);
        assert!(rs.is_exhausted());
        assert_eq!(rs.rows_fetched(), 4);
    }

    #[test]
    fn a_cursor_state_says_why_there_is_nothing_to_fetch() {
        let mut state: CursorState<Batches> = CursorState::new();
        let e = state.result().unwrap_err();
        assert!(e.to_string().contains("call execute first"), "{e}");
        state.set_affected(3);
        assert_eq!(state.rowcount(None), 3);
        let e = state.result().unwrap_err();
        assert!(e.to_string().contains("changed data"), "{e}");
        state.set_rows(Batches::new(None, vec![]));
        assert_eq!(state.rowcount(Some(10)), 10);
        assert!(state.result().is_ok());
        assert!(state.start().unwrap().is_some());
        assert_eq!(state.rowcount(Some(10)), -1);
        state.set_arraysize(0);
        assert_eq!(state.arraysize(), 1);
        state.close();
        let e = state.start().unwrap_err();
        assert!(e.to_string().contains("closed"), "{e}");
        assert!(state.is_closed());
    }
}

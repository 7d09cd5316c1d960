//! Row and batch views over a stream of record batches, for drivers.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;

use crate::row::describe;
use crate::{Column, Result, Row};

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
    offset: usize,
    rows_fetched: u64,
    exhausted: bool,
}

impl<S: BatchSource> ResultSet<S> {
    /// Wraps a source.
    pub fn new(source: S) -> Self {
        let schema = source.schema();
        let columns = schema.as_deref().map(describe);
        ResultSet {
            source,
            schema,
            columns,
            current: None,
            offset: 0,
            rows_fetched: 0,
            exhausted: false,
        }
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The column descriptions, once the schema is known.
    pub fn columns(&self) -> Option<&[Column]> {
        self.columns.as_deref()
    }

    /// The number of rows handed out so far, as rows or within batches.
    pub fn rows_fetched(&self) -> u64 {
        self.rows_fetched
    }

    /// Whether the source has reported the end of the result and every row was handed out.
    pub fn is_exhausted(&self) -> bool {
        self.exhausted && self.current.is_none()
    }

    /// Ensures a batch with unread rows is current; false at the end.
    async fn fill(&mut self) -> Result<bool> {
        loop {
            if let Some(batch) = &self.current {
                if self.offset < batch.num_rows() {
                    return Ok(true);
                }
                self.current = None;
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
                        self.columns = Some(describe(&schema));
                        self.schema = Some(schema);
                    }
                    self.current = Some(batch);
                    self.offset = 0;
                }
                None => {
                    self.exhausted = true;
                    if let Some(schema) = self.source.schema()
                        && self.schema.as_ref() != Some(&schema)
                    {
                        self.columns = Some(describe(&schema));
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
    /// The source's errors, and value conversion errors.
    pub async fn fetchone(&mut self) -> Result<Option<Row>> {
        if !self.fill().await? {
            return Ok(None);
        }
        let (Some(batch), Some(columns)) = (&self.current, &self.columns) else {
            return Ok(None);
        };
        let row = Row::from_batch(columns, batch, self.offset)?;
        self.offset += 1;
        self.rows_fetched += 1;
        Ok(Some(row))
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
            let (Some(batch), Some(columns)) = (&self.current, &self.columns) else {
                break;
            };
            let end = self.offset + (size - rows.len()).min(batch.num_rows() - self.offset);
            for i in self.offset..end {
                rows.push(Row::from_batch(columns, batch, i)?);
            }
            self.rows_fetched += (end - self.offset) as u64;
            self.offset = end;
        }
        Ok(rows)
    }

    /// All remaining rows.
    ///
    /// # Errors
    /// As [`ResultSet::fetchone`].
    pub async fn fetchall(&mut self) -> Result<Vec<Row>> {
        self.fetchmany(usize::MAX).await
    }

    /// The next batch, or the unread remainder of a batch partly read as rows.
    ///
    /// # Errors
    /// The source's errors.
    pub async fn fetch_batch(&mut self) -> Result<Option<RecordBatch>> {
        if !self.fill().await? {
            return Ok(None);
        }
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

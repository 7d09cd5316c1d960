//! Rows: views over a record batch, read on access.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;

use crate::reader::RowData;
use crate::value_ref::{FromValueRef, ValueRef};
use crate::{Column, Error, Result, Value};

/// One row of a result: a view over its record batch (shared by the rows of that batch) and
/// an index. Nothing is copied or converted when a row is fetched; values are read when asked
/// for: [`get`](Row::get) reads a column into a Rust type (`&str` and `&[u8]` borrow from the
/// Arrow buffers), [`get_value`](Row::get_value) and [`values`](Row::values) build
/// [`Value`]s, and [`deserialize`](Row::deserialize) fills a `serde` type.
///
/// A row keeps its batch alive (as an Arrow slice keeps its buffers). Cloning a row is cheap.
#[derive(Clone)]
pub struct Row {
    pub(crate) data: Arc<RowData>,
    pub(crate) index: usize,
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for (n, column) in self.data.columns.iter().enumerate() {
            match self.data.value(n, self.index) {
                Ok(v) => map.entry(&column.name(), &v),
                Err(e) => map.entry(&column.name(), &e.to_string()),
            };
        }
        map.finish()
    }
}

impl PartialEq for Row {
    /// Rows are equal when their columns and values are (values that cannot be read are
    /// never equal).
    fn eq(&self, other: &Row) -> bool {
        self.data.columns == other.data.columns
            && matches!((self.values(), other.values()), (Ok(a), Ok(b)) if a == b)
    }
}

/// An index into a [`Row`]: a column position (`usize`) or a column name (`&str`).
pub trait RowIndex: std::fmt::Display {
    /// The position of the column, if the row has it.
    fn position(&self, columns: &[Column]) -> Option<usize>;
}

impl RowIndex for usize {
    #[inline]
    fn position(&self, columns: &[Column]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl RowIndex for &str {
    fn position(&self, columns: &[Column]) -> Option<usize> {
        columns.iter().position(|c| c.name() == *self)
    }
}

impl RowIndex for String {
    fn position(&self, columns: &[Column]) -> Option<usize> {
        self.as_str().position(columns)
    }
}

impl Row {
    /// Creates a row of values. `values` and `columns` must have the same length.
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if the lengths differ.
    pub fn new(columns: Arc<[Column]>, values: Vec<Value>) -> Result<Row> {
        if columns.len() != values.len() {
            return Err(Error::interface(format!(
                "a row of {} values cannot have {} columns",
                values.len(),
                columns.len()
            )));
        }
        Ok(Row {
            data: Arc::new(RowData::given(columns, values)),
            index: 0,
        })
    }

    /// Row `index` of a record batch, whose schema the columns describe. (Rows fetched from
    /// a cursor share the work of reading their batch; this is for a single row.)
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if the columns do not
    /// describe the batch or the index is out of bounds.
    pub fn from_batch(columns: &Arc<[Column]>, batch: &RecordBatch, index: usize) -> Result<Row> {
        let data = Arc::new(RowData::new(columns, batch)?);
        Row::view(&data, index)
    }

    /// Row `index` of shared batch data.
    #[inline]
    pub(crate) fn view(data: &Arc<RowData>, index: usize) -> Result<Row> {
        if index >= data.len {
            return Err(Error::interface(format!(
                "row {index} is out of bounds for a batch of {} rows",
                data.len
            )));
        }
        Ok(Row {
            data: Arc::clone(data),
            index,
        })
    }

    /// Rows `range` of shared batch data (in bounds: checked by the caller).
    pub(crate) fn views(data: &Arc<RowData>, range: std::ops::Range<usize>, out: &mut Vec<Row>) {
        let end = range.end.min(data.len);
        out.extend((range.start..end).map(|index| Row {
            data: Arc::clone(data),
            index,
        }));
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.data.columns.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.data.columns.is_empty()
    }

    /// The column descriptions.
    pub fn columns(&self) -> &[Column] {
        &self.data.columns
    }

    /// The record batch this row is a view of, and the row's index in it (`None` for a row
    /// made with [`Row::new`]): the zero-copy way to the Arrow data.
    pub fn batch(&self) -> Option<(&RecordBatch, usize)> {
        self.data.batch.as_ref().map(|b| (b, self.index))
    }

    /// The values, in column order, each read into a [`Value`].
    ///
    /// # Errors
    /// An [`ErrorKind::Data`](crate::ErrorKind::Data) error naming the column of a value that
    /// has no `Value` (e.g. a timestamp out of `chrono`'s range).
    pub fn values(&self) -> Result<Vec<Value>> {
        (0..self.len())
            .map(|n| self.data.value(n, self.index))
            .collect()
    }

    /// The position of a column, or an error listing the columns.
    #[inline]
    fn position<I: RowIndex>(&self, index: &I) -> Result<usize> {
        index.position(&self.data.columns).ok_or_else(|| {
            Error::interface(format!(
                "no column {index} in a row of {} columns ({})",
                self.len(),
                self.data
                    .columns
                    .iter()
                    .map(Column::name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// The value of a column, by position or name, read into a [`Value`].
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if there is no such
    /// column; as [`Row::values`].
    pub fn get_value<I: RowIndex>(&self, index: I) -> Result<Value> {
        let n = self.position(&index)?;
        self.data.value(n, self.index)
    }

    /// The value of a column, by position or name, not yet read: for [`FromValueRef`]
    /// implementations and generic code.
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if there is no such
    /// column.
    pub fn get_ref<I: RowIndex>(&self, index: I) -> Result<ValueRef<'_>> {
        let n = self.position(&index)?;
        Ok(self.value_ref(n))
    }

    /// Column `n`'s value (`n` in bounds).
    #[inline]
    pub(crate) fn value_ref(&self, n: usize) -> ValueRef<'_> {
        ValueRef::new(&self.data.readers[n], self.index)
    }

    /// The value of a column read into `T`, by position or name: `i64`, `f64`, `bool`,
    /// `String`, `&str` and `&[u8]` (borrowed from the Arrow buffer), `chrono` types,
    /// [`Decimal`](crate::Decimal), [`Value`]... Use `Option<T>` for columns that may be NULL.
    ///
    /// # Errors
    /// - [`ErrorKind::Interface`](crate::ErrorKind::Interface) if there is no such column;
    /// - [`ErrorKind::Data`](crate::ErrorKind::Data) if the value does not convert to `T`;
    ///   the message names the column, the value's type and `T`.
    pub fn get<'a, T: FromValueRef<'a>, I: RowIndex>(&'a self, index: I) -> Result<T> {
        let n = self.position(&index)?;
        T::from_value_ref(self.value_ref(n)).map_err(|e| self.column_error(n, e))
    }

    /// An error about column `n`, naming it.
    pub(crate) fn column_error(&self, n: usize, e: Error) -> Error {
        let message = format!("column {n} ({:?})", name(&self.data.columns, n));
        e.context(message)
    }
}

impl<I: RowIndex> RowIndex for &I {
    #[inline]
    fn position(&self, columns: &[Column]) -> Option<usize> {
        (*self).position(columns)
    }
}

fn name(columns: &[Column], n: usize) -> &str {
    columns.get(n).map_or("?", Column::name)
}

/// Describes every field of a schema.
pub fn describe(schema: &arrow::datatypes::Schema) -> Arc<[Column]> {
    schema
        .fields()
        .iter()
        .map(|f| Column::from_field(f))
        .collect()
}

/// The rows of one record batch, as an iterator: what [`CursorExt::fetch_rows`] gives, to
/// read a result row by row without an `await` per row.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{Int64Array, StringArray};
/// use arrow::record_batch::RecordBatch;
///
/// let batch = RecordBatch::try_from_iter([
///     ("id", Arc::new(Int64Array::from(vec![1, 2])) as _),
///     ("name", Arc::new(StringArray::from(vec!["a", "b"])) as _),
/// ])?;
/// let mut names = String::new();
/// for row in dbapi::BatchRows::new(&batch) {
///     let name: &str = row.get("name")?;
///     names.push_str(name);
/// }
/// assert_eq!(names, "ab");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`CursorExt::fetch_rows`]: crate::CursorExt::fetch_rows
#[derive(Debug, Clone)]
pub struct BatchRows {
    data: Arc<RowData>,
    next: usize,
}

impl BatchRows {
    /// The rows of `batch`, its columns described from its schema.
    pub fn new(batch: &RecordBatch) -> BatchRows {
        BatchRows {
            data: Arc::new(RowData::described(describe(&batch.schema()), batch)),
            next: 0,
        }
    }

    /// The columns of the rows.
    pub fn columns(&self) -> &[Column] {
        &self.data.columns
    }

    /// The record batch the rows are read from.
    pub fn batch(&self) -> Option<&RecordBatch> {
        self.data.batch.as_ref()
    }
}

impl Iterator for BatchRows {
    type Item = Row;

    #[inline]
    fn next(&mut self) -> Option<Row> {
        if self.next >= self.data.len {
            return None;
        }
        let row = Row {
            data: Arc::clone(&self.data),
            index: self.next,
        };
        self.next += 1;
        Some(row)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.data.len - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for BatchRows {}

impl std::iter::FusedIterator for BatchRows {}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("a"), None])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn batch_rows_iterate_every_row_once() {
        let b = batch();
        let mut rows = BatchRows::new(&b);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows.columns()[1].name(), "name");
        assert_eq!(rows.batch().map(RecordBatch::num_rows), Some(2));
        let first = rows.next().unwrap();
        assert_eq!(rows.size_hint(), (1, Some(1)));
        let second = rows.next().unwrap();
        assert!(rows.next().is_none() && rows.next().is_none());
        assert_eq!(first.get::<i64, _>("id").unwrap(), 1);
        assert_eq!(second.get::<Option<&str>, _>("name").unwrap(), None);
        // A row outlives its iterator, as rows from a cursor do.
        drop(rows);
        assert_eq!(first.get::<&str, _>(1).unwrap(), "a");
        let empty = b.slice(2, 0);
        assert_eq!(BatchRows::new(&empty).count(), 0);
    }

    #[test]
    fn get_by_index_and_name() {
        let b = batch();
        let cols = describe(&b.schema());
        let row = Row::from_batch(&cols, &b, 0).unwrap();
        assert_eq!(row.get::<i64, _>(0).unwrap(), 1);
        assert_eq!(row.get::<String, _>("name").unwrap(), "a");
        let row = Row::from_batch(&cols, &b, 1).unwrap();
        assert_eq!(row.get::<Option<String>, _>("name").unwrap(), None);
    }

    #[test]
    fn type_error_names_column_and_both_types() {
        let b = batch();
        let cols = describe(&b.schema());
        let row = Row::from_batch(&cols, &b, 0).unwrap();
        let e = row.get::<String, _>("id").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("column 0 (\"id\")"), "{msg}");
        assert!(msg.contains("Int64"), "{msg}");
        assert!(msg.contains("String"), "{msg}");
        assert_eq!(e.kind(), crate::ErrorKind::Data);
    }

    #[test]
    fn null_into_non_option_is_an_error() {
        let b = batch();
        let cols = describe(&b.schema());
        let row = Row::from_batch(&cols, &b, 1).unwrap();
        let e = row.get::<String, _>(1).unwrap_err();
        assert!(e.to_string().contains("Null"), "{e}");
    }

    #[test]
    fn unknown_column_lists_columns() {
        let b = batch();
        let cols = describe(&b.schema());
        let row = Row::from_batch(&cols, &b, 0).unwrap();
        let e = row.get::<i64, _>("nope").unwrap_err();
        assert!(e.is_interface());
        assert!(e.to_string().contains("id, name"), "{e}");
        assert!(row.get::<i64, _>(5).is_err());
    }
}

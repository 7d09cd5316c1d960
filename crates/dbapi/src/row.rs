//! Rows: ordered values with their column descriptions.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;

use crate::reader::BatchRows;
use crate::{Column, Error, FromValue, Result, Value};

/// One row of a result: values in column order, sharing the result's column descriptions.
///
/// Rows fetched together by one `fetchmany`/`fetchall` from one batch share one allocation
/// for their values (a row keeps that block alive, as an Arrow slice keeps its buffers).
#[derive(Debug, Clone)]
pub struct Row {
    columns: Arc<[Column]>,
    values: Values,
}

/// Where a row's values live.
#[derive(Debug, Clone)]
enum Values {
    /// The row's own vector.
    Own(Vec<Value>),
    /// `len` values from `start` in a block shared by rows fetched together.
    Shared {
        block: Arc<Vec<Value>>,
        start: usize,
    },
}

impl PartialEq for Row {
    fn eq(&self, other: &Row) -> bool {
        self.columns == other.columns && self.values() == other.values()
    }
}

/// An index into a [`Row`]: a column position (`usize`) or a column name (`&str`).
pub trait RowIndex: std::fmt::Display {
    /// The position of the column, if the row has it.
    fn position(&self, columns: &[Column]) -> Option<usize>;
}

impl RowIndex for usize {
    fn position(&self, columns: &[Column]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl RowIndex for &str {
    fn position(&self, columns: &[Column]) -> Option<usize> {
        columns.iter().position(|c| c.name() == *self)
    }
}

impl Row {
    /// Creates a row. `values` and `columns` must have the same length.
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
            columns,
            values: Values::Own(values),
        })
    }

    /// `count` rows over a block of `count × columns.len()` values, in order.
    pub(crate) fn from_block(columns: &Arc<[Column]>, block: Vec<Value>, count: usize) -> Vec<Row> {
        let width = columns.len();
        let block = Arc::new(block);
        (0..count)
            .map(|r| Row {
                columns: Arc::clone(columns),
                values: Values::Shared {
                    block: Arc::clone(&block),
                    start: r * width,
                },
            })
            .collect()
    }

    /// Reads row `index` of a record batch, whose schema the columns describe.
    ///
    /// # Errors
    /// As [`Value::from_arrow`], with the column named.
    pub fn from_batch(columns: &Arc<[Column]>, batch: &RecordBatch, index: usize) -> Result<Row> {
        BatchRows::new(columns, batch)?.row(index)
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The column descriptions.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The values, in column order.
    pub fn values(&self) -> &[Value] {
        match &self.values {
            Values::Own(values) => values,
            Values::Shared { block, start } => block
                .get(*start..*start + self.columns.len())
                .unwrap_or_default(),
        }
    }

    /// The values, consuming the row.
    pub fn into_values(self) -> Vec<Value> {
        match self.values {
            Values::Own(values) => values,
            Values::Shared { .. } => self.values().to_vec(),
        }
    }

    /// The value of a column, by position or name.
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if there is no such
    /// column.
    pub fn get_value<I: RowIndex>(&self, index: I) -> Result<&Value> {
        let position = index.position(&self.columns).ok_or_else(|| {
            Error::interface(format!(
                "no column {index} in a row of {} columns ({})",
                self.columns.len(),
                self.columns
                    .iter()
                    .map(Column::name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        self.values()
            .get(position)
            .ok_or_else(|| Error::internal(format!("row has no value {position}")))
    }

    /// The value of a column converted to `T`, by position or name. Use `Option<T>` for
    /// columns that may be NULL.
    ///
    /// # Errors
    /// - [`ErrorKind::Interface`](crate::ErrorKind::Interface) if there is no such column;
    /// - [`ErrorKind::Data`](crate::ErrorKind::Data) if the value does not convert to `T`;
    ///   the message names the column, the value's type and `T`.
    pub fn get<T: FromValue, I: RowIndex>(&self, index: I) -> Result<T> {
        let value = self.get_value(&index)?;
        T::from_value(value).map_err(|e| {
            let position = index.position(&self.columns).unwrap_or_default();
            Error::data(format!(
                "column {position} ({:?}): {e}",
                name(&self.columns, position)
            ))
            .with_source(e)
        })
    }
}

impl<I: RowIndex> RowIndex for &I {
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

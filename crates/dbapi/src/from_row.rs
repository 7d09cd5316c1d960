//! Rows read straight into Rust types: [`FromRow`], derived with `#[derive(FromRow)]`
//! (feature `derive`) for structs (fields by column name) and tuple structs, and implemented
//! for tuples (by position).
//!
//! Where each field's column is, is found once per batch ([`FromRow::plan`]); the columns are
//! downcast to their Arrow array types once per batch; each field is then read straight from
//! its array with [`FromValueRef`], the conversions of [`Row::get`](crate::Row::get): no
//! `Value`, no text round trip for timestamps. Serde ([`CursorExt::fetchall_as`]) remains for
//! every other type.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Float64Array, Int64Array, StringArray};
//! use arrow::record_batch::RecordBatch;
//! use dbapi::FromRow;
//!
//! #[derive(Debug, PartialEq, FromRow)]
//! struct Reading {
//!     id: i64,
//!     #[dbapi(rename = "temp")]
//!     temperature: Option<f64>,
//!     #[dbapi(default)]
//!     note: String,
//! }
//!
//! let batch = RecordBatch::try_from_iter([
//!     ("id", Arc::new(Int64Array::from(vec![1, 2])) as _),
//!     ("temp", Arc::new(Float64Array::from(vec![Some(20.5), None])) as _),
//! ])?;
//! let readings: Vec<Reading> = dbapi::from_row::read_batch(&batch)?;
//! assert_eq!(readings[1], Reading { id: 2, temperature: None, note: String::new() });
//!
//! // Tuples read by position.
//! let pairs: Vec<(i64, Option<f64>)> = dbapi::from_row::read_batch(&batch)?;
//! assert_eq!(pairs[0], (1, Some(20.5)));
//!
//! // Errors name the field, the column and both types.
//! #[derive(Debug, FromRow)]
//! struct Wrong { temp: String }
//! let e = dbapi::from_row::read_batch::<Wrong>(&batch).unwrap_err();
//! assert!(e.to_string().contains(r#"field `temp` (column 1 "temp")"#), "{e}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What the derive refuses, at compile time: enums, unit structs, types with generic or
//! lifetime parameters (fields own their values), unknown attributes, and `rename` or
//! `default` on the fields of a tuple struct.
//!
//! ```compile_fail
//! #[derive(dbapi::FromRow)]
//! enum Shape { Circle, Square }
//! ```
//!
//! ```compile_fail
//! #[derive(dbapi::FromRow)]
//! struct Borrowed<'a> { name: &'a str }
//! ```
//!
//! ```compile_fail
//! #[derive(dbapi::FromRow)]
//! struct Unknown { #[dbapi(skip)] id: i64 }
//! ```
//!
//! ```compile_fail
//! #[derive(dbapi::FromRow)]
//! struct Positional(#[dbapi(rename = "id")] i64);
//! ```
//!
//! [`CursorExt::fetchall_as`]: crate::CursorExt::fetchall_as

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::reader::{Reader, RowData};
use crate::value_ref::ValueRef;
use crate::{Column, Error, FromValueRef, Result, Row};

/// A Rust type read from one row of a result; see the [module](self) documentation.
pub trait FromRow: Sized {
    /// Finds, once per batch, the column each field reads.
    ///
    /// # Errors
    /// An [`ErrorKind::Programming`](crate::ErrorKind::Programming) error naming a field
    /// whose column the result lacks.
    fn plan(columns: &[Column]) -> Result<Plan>;

    /// Reads one row, its fields from the columns the plan found.
    ///
    /// # Errors
    /// An [`ErrorKind::Data`](crate::ErrorKind::Data) error naming the field, the column and
    /// both types when a value does not convert.
    fn from_row(row: RowRef<'_>, plan: &Plan) -> Result<Self>;

    /// Reads every row of a batch, appending them to `out`: what
    /// [`fetchall_typed`](crate::CursorExt::fetchall_typed) calls. By default
    /// [`from_row`](Self::from_row) row by row; the derive implements it with each field's
    /// column resolved once per batch ([`BatchRef::field`]), as a loop written by hand over
    /// the batch would.
    ///
    /// # Errors
    /// As [`from_row`](Self::from_row).
    fn read_rows(batch: BatchRef<'_>, out: &mut Vec<Self>) -> Result<()> {
        out.reserve(batch.len());
        for row in batch.rows() {
            out.push(Self::from_row(row, batch.plan)?);
        }
        Ok(())
    }
}

/// Where the fields of a [`FromRow`] type are read: a column per field (`None`: absent, the
/// field takes its default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan(Vec<Option<usize>>);

impl Plan {
    /// A plan from the column of each field.
    pub fn new(columns: Vec<Option<usize>>) -> Plan {
        Plan(columns)
    }

    /// The column of field `i`, if the result has it.
    #[inline]
    pub fn column(&self, i: usize) -> Option<usize> {
        self.0.get(i).copied().flatten()
    }

    /// The column of field `i`, which the plan found.
    ///
    /// # Errors
    /// An [`ErrorKind::Internal`](crate::ErrorKind::Internal) error if it did not.
    #[inline]
    pub fn required(&self, i: usize) -> Result<usize> {
        self.column(i)
            .ok_or_else(|| Error::internal(format!("no column planned for field {i}")))
    }
}

/// One row of a batch, as [`FromRow::from_row`] reads it.
#[derive(Clone, Copy)]
pub struct RowRef<'a> {
    data: &'a RowData,
    index: usize,
    /// The column of each field of the plan, resolved once per batch (`None`: absent).
    fields: &'a [Option<(usize, &'a Reader)>],
}

impl std::fmt::Debug for RowRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowRef")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// The column of each field of `plan` in `data`, with its reader.
fn resolve<'a>(plan: &Plan, data: &'a RowData) -> Vec<Option<(usize, &'a Reader)>> {
    plan.0
        .iter()
        .map(|c| c.and_then(|n| Some((n, data.readers.get(n)?))))
        .collect()
}

impl<'a> RowRef<'a> {
    /// The value of column `n` read as `T`, for field `field` (named in errors).
    ///
    /// # Errors
    /// As [`FromValueRef::from_value_ref`], naming the field and the column.
    #[inline(always)]
    pub fn field<T: FromValueRef<'a>>(&self, n: usize, field: &str) -> Result<T> {
        let Some(reader) = self.data.readers.get(n) else {
            return Err(Error::internal(format!(
                "field `{field}`: no column {n} in the row"
            )));
        };
        self.read(n, reader, field)
    }

    /// Field `i` of the plan read as `T` from its column (`field` names it in errors): what
    /// derived implementations call, the column found once per batch.
    ///
    /// # Errors
    /// As [`FromValueRef::from_value_ref`], naming the field and the column; an
    /// [`ErrorKind::Internal`](crate::ErrorKind::Internal) error if the plan has no column
    /// for the field.
    #[inline(always)]
    pub fn planned<T: FromValueRef<'a>>(&self, i: usize, field: &str) -> Result<T> {
        match self.fields.get(i) {
            Some(Some((n, reader))) => self.read(*n, reader, field),
            _ => Err(Error::internal(format!(
                "field `{field}`: no column planned for field {i}"
            ))),
        }
    }

    /// Whether the plan found a column for field `i` (a field with a default may have none).
    #[inline]
    pub fn has(&self, i: usize) -> bool {
        matches!(self.fields.get(i), Some(Some(_)))
    }

    #[inline(always)]
    fn read<T: FromValueRef<'a>>(&self, n: usize, reader: &'a Reader, field: &str) -> Result<T> {
        let column = FieldColumn {
            data: self.data,
            n,
            reader,
        };
        column.read_at(self.index, field)
    }
}

/// The rows of one batch, as [`FromRow::read_rows`] reads them: the column of each field of
/// the plan resolved once for the batch.
#[derive(Clone, Copy)]
pub struct BatchRef<'a> {
    data: &'a RowData,
    plan: &'a Plan,
    /// The column of each field of the plan (`None`: absent).
    fields: &'a [Option<(usize, &'a Reader)>],
}

impl std::fmt::Debug for BatchRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchRef")
            .field("rows", &self.data.len)
            .field("plan", self.plan)
            .finish_non_exhaustive()
    }
}

impl<'a> BatchRef<'a> {
    /// The number of rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len
    }

    /// Whether the batch has no rows.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.len == 0
    }

    /// The plan the fields were resolved with.
    pub fn plan(&self) -> &'a Plan {
        self.plan
    }

    /// Each row, as [`FromRow::from_row`] reads it.
    pub fn rows(&self) -> impl Iterator<Item = RowRef<'a>> + use<'a> {
        let (data, fields) = (self.data, self.fields);
        (0..data.len).map(move |index| RowRef {
            data,
            index,
            fields,
        })
    }

    /// The column of field `i` of the plan (`field` names it in errors), to read the field
    /// of every row from.
    ///
    /// # Errors
    /// An [`ErrorKind::Internal`](crate::ErrorKind::Internal) error if the plan has no column
    /// for the field (see [`optional_field`](Self::optional_field) for fields with defaults).
    #[inline]
    pub fn field(&self, i: usize, field: &str) -> Result<FieldColumn<'a>> {
        self.optional_field(i).ok_or_else(|| {
            Error::internal(format!("field `{field}`: no column planned for field {i}"))
        })
    }

    /// The column of field `i` of the plan, if the result has it (a field with a default may
    /// have none).
    #[inline]
    pub fn optional_field(&self, i: usize) -> Option<FieldColumn<'a>> {
        match self.fields.get(i) {
            Some(Some((n, reader))) => Some(FieldColumn {
                data: self.data,
                n: *n,
                reader,
            }),
            _ => None,
        }
    }
}

/// The column of one field in a batch ([`BatchRef::field`]): the field of each row is read
/// from it by the row's index.
#[derive(Clone, Copy)]
pub struct FieldColumn<'a> {
    data: &'a RowData,
    n: usize,
    reader: &'a Reader,
}

impl std::fmt::Debug for FieldColumn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldColumn")
            .field("column", &self.n)
            .finish_non_exhaustive()
    }
}

impl<'a> FieldColumn<'a> {
    /// The value of row `index` read as `T`, for field `field` (named in errors).
    ///
    /// # Errors
    /// As [`FromValueRef::from_value_ref`], naming the field and the column; an
    /// [`ErrorKind::Programming`](crate::ErrorKind::Programming) error when the batch has no
    /// row `index`.
    #[inline(always)]
    pub fn read<T: FromValueRef<'a>>(&self, index: usize, field: &str) -> Result<T> {
        if index >= self.data.len {
            return Err(self.no_row(index, field));
        }
        self.read_at(index, field)
    }

    /// [`read`](Self::read) of an index known to be in the batch.
    #[inline(always)]
    fn read_at<T: FromValueRef<'a>>(&self, index: usize, field: &str) -> Result<T> {
        T::from_value_ref(ValueRef::new(self.reader, index)).map_err(|e| self.context(e, field))
    }

    /// `e` naming the field and the column.
    #[cold]
    #[inline(never)]
    fn context(&self, e: Error, field: &str) -> Error {
        let n = self.n;
        let name = self.data.columns.get(n).map_or("?", Column::name);
        e.context(format_args!("field `{field}` (column {n} {name:?})"))
    }

    #[cold]
    #[inline(never)]
    fn no_row(&self, index: usize, field: &str) -> Error {
        Error::programming(format!(
            "field `{field}`: no row {index} in a batch of {} rows",
            self.data.len
        ))
    }
}

/// The position of the column named `name` (exactly, else ignoring ASCII case).
pub fn find(columns: &[Column], name: &str) -> Option<usize> {
    columns.iter().position(|c| c.name() == name).or_else(|| {
        columns
            .iter()
            .position(|c| c.name().eq_ignore_ascii_case(name))
    })
}

/// [`find`], or an error naming the field and the columns there are.
///
/// # Errors
/// An [`ErrorKind::Programming`](crate::ErrorKind::Programming) error when there is no such
/// column.
pub fn require(columns: &[Column], name: &str, field: &str) -> Result<usize> {
    find(columns, name).ok_or_else(|| {
        let names: Vec<&str> = columns.iter().map(Column::name).collect();
        let via = if name == field {
            String::new()
        } else {
            format!(" (renamed {name:?})")
        };
        Error::programming(format!(
            "field `{field}`{via} has no column in the result, whose columns are {names:?} \
             (add #[dbapi(default)] to the field to allow that)"
        ))
    })
}

/// The plan of a type read by position: the first `n` columns.
///
/// # Errors
/// An [`ErrorKind::Programming`](crate::ErrorKind::Programming) error when the result has
/// fewer columns.
pub fn positions(columns: &[Column], n: usize) -> Result<Plan> {
    if columns.len() < n {
        return Err(Error::programming(format!(
            "{n} fields are read by position but the result has {} columns",
            columns.len()
        )));
    }
    Ok(Plan((0..n).map(Some).collect()))
}

/// Batches made into rows, their columns described once per schema (not per batch) and
/// downcast once per batch.
pub(crate) struct DescribedBatches {
    described: Option<(SchemaRef, Arc<[Column]>)>,
}

impl DescribedBatches {
    pub(crate) fn new() -> Self {
        DescribedBatches { described: None }
    }

    /// The rows of `batch`, and whether its schema differs from the previous batch's.
    pub(crate) fn rows(&mut self, batch: &RecordBatch) -> Result<(RowData, bool)> {
        let schema = batch.schema();
        let known = self
            .described
            .as_ref()
            .is_some_and(|(s, _)| Arc::ptr_eq(s, &schema) || **s == *schema);
        if !known {
            let columns = crate::row::describe(&schema);
            self.described = Some((schema, columns));
        }
        let Some((_, columns)) = &self.described else {
            return Err(Error::internal("no columns after describing"));
        };
        Ok((RowData::new(columns, batch)?, !known))
    }
}

/// Reads batches into `T`s, finding the columns of the fields once per schema (not per
/// batch), and downcasting each batch's columns once.
pub(crate) struct TypedBatches {
    batches: DescribedBatches,
    plan: Option<Plan>,
}

impl TypedBatches {
    pub(crate) fn new() -> Self {
        TypedBatches {
            batches: DescribedBatches::new(),
            plan: None,
        }
    }

    /// The rows of `batch` as `T`s, appended to `out`.
    pub(crate) fn extend<T: FromRow>(
        &mut self,
        batch: &RecordBatch,
        out: &mut Vec<T>,
    ) -> Result<()> {
        let (data, new_schema) = self.batches.rows(batch)?;
        let plan = match &mut self.plan {
            Some(plan) if !new_schema => plan,
            slot => slot.insert(T::plan(&data.columns)?),
        };
        let fields = resolve(plan, &data);
        T::read_rows(
            BatchRef {
                data: &data,
                plan,
                fields: &fields,
            },
            out,
        )
    }
}

/// Every row of a batch as a `T` (its columns described by [`describe`](crate::row::describe)).
///
/// # Errors
/// As [`FromRow::plan`] and [`FromRow::from_row`].
pub fn read_batch<T: FromRow>(batch: &RecordBatch) -> Result<Vec<T>> {
    let mut out = Vec::new();
    TypedBatches::new().extend(batch, &mut out)?;
    Ok(out)
}

impl Row {
    /// The row read into a [`FromRow`] type (derived, or a tuple).
    ///
    /// # Errors
    /// As [`FromRow::plan`] and [`FromRow::from_row`].
    pub fn read<T: FromRow>(&self) -> Result<T> {
        let plan = T::plan(self.columns())?;
        let fields = resolve(&plan, &self.data);
        let row = RowRef {
            data: &self.data,
            index: self.index,
            fields: &fields,
        };
        T::from_row(row, &plan)
    }
}

macro_rules! tuples {
    ($(($n:expr; $($t:ident $i:tt),+)),+ $(,)?) => {$(
        impl<$($t),+> FromRow for ($($t,)+)
        where
            $($t: for<'a> FromValueRef<'a>),+
        {
            fn plan(columns: &[Column]) -> Result<Plan> {
                positions(columns, $n)
            }

            #[inline]
            fn from_row(row: RowRef<'_>, _: &Plan) -> Result<Self> {
                Ok(($(row.planned::<$t>($i, stringify!($i))?,)+))
            }

            #[allow(non_snake_case)]
            fn read_rows(batch: BatchRef<'_>, out: &mut Vec<Self>) -> Result<()> {
                $(let $t = batch.field($i, stringify!($i))?;)+
                out.reserve(batch.len());
                for index in 0..batch.len() {
                    out.push(($($t.read_at::<$t>(index, stringify!($i))?,)+));
                }
                Ok(())
            }
        }
    )+};
}

tuples!(
    (1; A 0),
    (2; A 0, B 1),
    (3; A 0, B 1, C 2),
    (4; A 0, B 1, C 2, D 3),
    (5; A 0, B 1, C 2, D 3, E 4),
    (6; A 0, B 1, C 2, D 3, E 4, F 5),
    (7; A 0, B 1, C 2, D 3, E 4, F 5, G 6),
    (8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7),
    (9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8),
    (10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9),
    (11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10),
    (12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11),
);

#[cfg(test)]
mod tests {
    use arrow::array::{Int64Array, StringArray};

    use super::*;
    use crate::ErrorKind;

    fn batch() -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(Int64Array::from(vec![Some(1), Some(2), None])) as _,
            ),
            (
                "name",
                Arc::new(StringArray::from(vec!["a", "bc", "def"])) as _,
            ),
        ])
        .unwrap()
    }

    #[derive(Debug, PartialEq, crate::FromRow)]
    struct Derived {
        name: String,
        id: Option<i64>,
        #[dbapi(default)]
        absent: i64,
    }

    /// The same fields read row by row, through the provided `read_rows`.
    #[derive(Debug, PartialEq)]
    struct ByRow(Derived);

    impl FromRow for ByRow {
        fn plan(columns: &[Column]) -> Result<Plan> {
            Derived::plan(columns)
        }

        fn from_row(row: RowRef<'_>, plan: &Plan) -> Result<Self> {
            Derived::from_row(row, plan).map(ByRow)
        }
    }

    #[test]
    fn batch_reads_agree_with_row_reads() {
        let batch = batch();
        let derived: Vec<Derived> = read_batch(&batch).unwrap();
        let by_row: Vec<ByRow> = read_batch(&batch).unwrap();
        assert_eq!(derived.len(), 3);
        assert_eq!(derived, by_row.into_iter().map(|r| r.0).collect::<Vec<_>>());
        assert_eq!(
            derived[2],
            Derived {
                name: "def".into(),
                id: None,
                absent: 0
            }
        );
        let tuples: Vec<(Option<i64>, String)> = read_batch(&batch).unwrap();
        assert_eq!(tuples[1], (Some(2), "bc".to_owned()));
        // A NULL into a type without one fails the batch, naming field and column.
        let e = read_batch::<(i64,)>(&batch).unwrap_err().to_string();
        assert!(e.contains(r#"field `0` (column 0 "id")"#), "{e}");
    }

    #[test]
    fn a_field_column_refuses_rows_the_batch_lacks() {
        let batch = batch();
        let (data, _) = DescribedBatches::new().rows(&batch).unwrap();
        let plan = Derived::plan(&data.columns).unwrap();
        let fields = resolve(&plan, &data);
        let batch = BatchRef {
            data: &data,
            plan: &plan,
            fields: &fields,
        };
        assert_eq!(batch.rows().count(), 3);
        let name = batch.field(0, "name").unwrap();
        assert_eq!(name.read::<&str>(2, "name").unwrap(), "def");
        let e = name.read::<&str>(3, "name").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Programming);
        assert!(
            e.to_string().contains("no row 3 in a batch of 3 rows"),
            "{e}"
        );
        assert!(batch.optional_field(2).is_none(), "`absent` has no column");
        let e = batch.field(2, "absent").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
    }
}

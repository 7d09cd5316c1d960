//! ADBC `GetObjects` answers (catalogs holding schemas holding tables holding columns and
//! constraints, as nested Arrow lists) decoded into plain structs. Every column is looked up
//! by name and type-checked: a driver that answers in another shape gets an error naming what
//! is missing, never a panic.

use arrow::array::{Array, AsArray, ListArray, StructArray};
use arrow::datatypes::{Int16Type, Int32Type};
use arrow::record_batch::RecordBatch;
use dbapi::{Error, Result};

/// One catalog of a `GetObjects` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Catalog {
    pub(crate) name: Option<String>,
    pub(crate) schemas: Vec<DbSchema>,
}

/// One schema of a catalog.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct DbSchema {
    pub(crate) name: Option<String>,
    pub(crate) tables: Vec<Table>,
}

/// One table of a schema.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Table {
    pub(crate) name: String,
    pub(crate) table_type: String,
    pub(crate) columns: Vec<ColumnObject>,
    pub(crate) constraints: Vec<Constraint>,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ColumnObject {
    pub(crate) name: String,
    pub(crate) ordinal: Option<i32>,
    pub(crate) remarks: Option<String>,
    pub(crate) type_name: Option<String>,
    /// ODBC's `NULLABLE`: 0 no, 1 yes, 2 unknown.
    pub(crate) nullable: Option<i16>,
}

/// One constraint of a table (`PRIMARY KEY`, `FOREIGN KEY`, `UNIQUE`, `CHECK`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Constraint {
    pub(crate) name: Option<String>,
    pub(crate) kind: String,
    pub(crate) columns: Vec<String>,
}

const WHAT: &str = "ADBC GetObjects";

fn missing(name: &str, kind: &str) -> Error {
    Error::internal(format!("{WHAT}: the answer has no {kind} column {name:?}"))
}

fn field<'a>(parent: &'a StructArray, name: &str) -> Result<&'a dyn Array> {
    parent
        .column_by_name(name)
        .map(AsRef::as_ref)
        .ok_or_else(|| missing(name, "nested"))
}

fn text(array: &dyn Array, name: &str, row: usize) -> Result<Option<String>> {
    if array.is_null(row) {
        return Ok(None);
    }
    if let Some(strings) = array.as_string_opt::<i32>() {
        return Ok(Some(strings.value(row).to_owned()));
    }
    if let Some(strings) = array.as_string_opt::<i64>() {
        return Ok(Some(strings.value(row).to_owned()));
    }
    if let Some(strings) = array.as_string_view_opt() {
        return Ok(Some(strings.value(row).to_owned()));
    }
    Err(Error::internal(format!(
        "{WHAT}: column {name:?} is a {}, not text",
        array.data_type()
    )))
}

fn required_text(array: &dyn Array, name: &str, row: usize) -> Result<String> {
    text(array, name, row)?
        .ok_or_else(|| Error::internal(format!("{WHAT}: column {name:?} holds a NULL")))
}

fn list<'a>(array: &'a dyn Array, name: &str) -> Result<&'a ListArray> {
    array.as_list_opt::<i32>().ok_or_else(|| {
        Error::internal(format!(
            "{WHAT}: column {name:?} is a {}, not a list",
            array.data_type()
        ))
    })
}

/// The structs of row `row` of a list-of-structs column (none when NULL).
fn structs_at(array: &dyn Array, name: &str, row: usize) -> Result<Option<StructArray>> {
    let list = list(array, name)?;
    if list.is_null(row) {
        return Ok(None);
    }
    let value = list.value(row);
    let structs = value.as_struct_opt().ok_or_else(|| {
        Error::internal(format!(
            "{WHAT}: column {name:?} holds {}, not structs",
            value.data_type()
        ))
    })?;
    Ok(Some(structs.clone()))
}

fn int(array: &dyn Array, name: &str, row: usize) -> Result<Option<i64>> {
    if array.is_null(row) {
        return Ok(None);
    }
    if let Some(ints) = array.as_primitive_opt::<Int32Type>() {
        return Ok(Some(i64::from(ints.value(row))));
    }
    if let Some(ints) = array.as_primitive_opt::<Int16Type>() {
        return Ok(Some(i64::from(ints.value(row))));
    }
    Err(Error::internal(format!(
        "{WHAT}: column {name:?} is a {}, not an integer",
        array.data_type()
    )))
}

/// Decodes the batches of a `GetObjects` answer, at whatever depth it was asked.
pub(crate) fn decode(batches: &[RecordBatch]) -> Result<Vec<Catalog>> {
    let mut out = Vec::new();
    for batch in batches {
        let names = batch
            .column_by_name("catalog_name")
            .ok_or_else(|| missing("catalog_name", "top-level"))?;
        let schemas = batch.column_by_name("catalog_db_schemas");
        for row in 0..batch.num_rows() {
            let mut catalog = Catalog {
                name: text(names.as_ref(), "catalog_name", row)?,
                schemas: Vec::new(),
            };
            if let Some(schemas) = schemas
                && let Some(items) = structs_at(schemas.as_ref(), "catalog_db_schemas", row)?
            {
                catalog.schemas = db_schemas(&items)?;
            }
            out.push(catalog);
        }
    }
    Ok(out)
}

fn db_schemas(items: &StructArray) -> Result<Vec<DbSchema>> {
    let names = field(items, "db_schema_name")?;
    let tables = items.column_by_name("db_schema_tables");
    let mut out = Vec::with_capacity(items.len());
    for row in 0..items.len() {
        let mut schema = DbSchema {
            name: text(names, "db_schema_name", row)?,
            tables: Vec::new(),
        };
        if let Some(tables) = tables
            && let Some(items) = structs_at(tables.as_ref(), "db_schema_tables", row)?
        {
            schema.tables = tables_of(&items)?;
        }
        out.push(schema);
    }
    Ok(out)
}

fn tables_of(items: &StructArray) -> Result<Vec<Table>> {
    let names = field(items, "table_name")?;
    let types = field(items, "table_type")?;
    let columns = items.column_by_name("table_columns");
    let constraints = items.column_by_name("table_constraints");
    let mut out = Vec::with_capacity(items.len());
    for row in 0..items.len() {
        let mut table = Table {
            name: required_text(names, "table_name", row)?,
            table_type: required_text(types, "table_type", row)?,
            ..Table::default()
        };
        if let Some(columns) = columns
            && let Some(items) = structs_at(columns.as_ref(), "table_columns", row)?
        {
            table.columns = columns_of(&items)?;
        }
        if let Some(constraints) = constraints
            && let Some(items) = structs_at(constraints.as_ref(), "table_constraints", row)?
        {
            table.constraints = constraints_of(&items)?;
        }
        out.push(table);
    }
    Ok(out)
}

fn columns_of(items: &StructArray) -> Result<Vec<ColumnObject>> {
    let names = field(items, "column_name")?;
    let optional = |name: &str| items.column_by_name(name).map(AsRef::as_ref);
    let mut out = Vec::with_capacity(items.len());
    for row in 0..items.len() {
        let ordinal = match optional("ordinal_position") {
            Some(a) => int(a, "ordinal_position", row)?.and_then(|v| i32::try_from(v).ok()),
            None => None,
        };
        let remarks = match optional("remarks") {
            Some(a) => text(a, "remarks", row)?,
            None => None,
        };
        let type_name = match optional("xdbc_type_name") {
            Some(a) => text(a, "xdbc_type_name", row)?,
            None => None,
        };
        let nullable = match optional("xdbc_nullable") {
            Some(a) => int(a, "xdbc_nullable", row)?.and_then(|v| i16::try_from(v).ok()),
            None => None,
        };
        out.push(ColumnObject {
            name: required_text(names, "column_name", row)?,
            ordinal,
            remarks,
            type_name,
            nullable,
        });
    }
    Ok(out)
}

fn constraints_of(items: &StructArray) -> Result<Vec<Constraint>> {
    let names = field(items, "constraint_name")?;
    let kinds = field(items, "constraint_type")?;
    let columns = field(items, "constraint_column_names")?;
    let columns = list(columns, "constraint_column_names")?;
    let mut out = Vec::with_capacity(items.len());
    for row in 0..items.len() {
        let mut names_of_columns = Vec::new();
        if !columns.is_null(row) {
            let values = columns.value(row);
            for i in 0..values.len() {
                names_of_columns.push(required_text(
                    values.as_ref(),
                    "constraint_column_names",
                    i,
                )?);
            }
        }
        out.push(Constraint {
            name: text(names, "constraint_name", row)?,
            kind: required_text(kinds, "constraint_type", row)?,
            columns: names_of_columns,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int32Array, StringArray};
    use arrow::buffer::OffsetBuffer;
    use arrow::datatypes::{DataType, Field};

    fn list_of(values: StructArray, lengths: &[usize]) -> ArrayRef {
        let field = Arc::new(Field::new("item", values.data_type().clone(), true));
        Arc::new(ListArray::new(
            field,
            OffsetBuffer::from_lengths(lengths.iter().copied()),
            Arc::new(values),
            None,
        ))
    }

    #[test]
    fn nested_answers_decode_and_bad_shapes_are_named() {
        let columns = StructArray::from(vec![
            (
                Arc::new(Field::new("column_name", DataType::Utf8, false)),
                Arc::new(StringArray::from(vec!["id", "name"])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("ordinal_position", DataType::Int32, true)),
                Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef,
            ),
        ]);
        let tables = StructArray::from(vec![
            (
                Arc::new(Field::new("table_name", DataType::Utf8, false)),
                Arc::new(StringArray::from(vec!["t"])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("table_type", DataType::Utf8, false)),
                Arc::new(StringArray::from(vec!["table"])) as ArrayRef,
            ),
            (
                Arc::new(Field::new(
                    "table_columns",
                    list_of(columns.clone(), &[2]).data_type().clone(),
                    true,
                )),
                list_of(columns, &[2]),
            ),
        ]);
        let schemas = StructArray::from(vec![
            (
                Arc::new(Field::new("db_schema_name", DataType::Utf8, true)),
                Arc::new(StringArray::from(vec![Some("s")])) as ArrayRef,
            ),
            (
                Arc::new(Field::new(
                    "db_schema_tables",
                    list_of(tables.clone(), &[1]).data_type().clone(),
                    true,
                )),
                list_of(tables, &[1]),
            ),
        ]);
        let batch = RecordBatch::try_from_iter([
            (
                "catalog_name",
                Arc::new(StringArray::from(vec!["main"])) as ArrayRef,
            ),
            ("catalog_db_schemas", list_of(schemas, &[1])),
        ])
        .unwrap();
        let catalogs = decode(&[batch]).unwrap();
        assert_eq!(catalogs[0].name.as_deref(), Some("main"));
        let table = &catalogs[0].schemas[0].tables[0];
        assert_eq!(
            (table.name.as_str(), table.table_type.as_str()),
            ("t", "table")
        );
        assert_eq!(table.columns[1].name, "name");
        assert_eq!(table.columns[1].ordinal, Some(2));

        let wrong = RecordBatch::try_from_iter([(
            "catalog",
            Arc::new(StringArray::from(vec!["main"])) as ArrayRef,
        )])
        .unwrap();
        let e = decode(&[wrong]).unwrap_err();
        assert!(e.to_string().contains("\"catalog_name\""), "{e}");
        let not_list = RecordBatch::try_from_iter([
            (
                "catalog_name",
                Arc::new(StringArray::from(vec!["main"])) as ArrayRef,
            ),
            (
                "catalog_db_schemas",
                Arc::new(Int32Array::from(vec![1])) as ArrayRef,
            ),
        ])
        .unwrap();
        let e = decode(&[not_list]).unwrap_err();
        assert!(e.to_string().contains("not a list"), "{e}");
    }
}

//! ADBC's metadata answers built as Arrow data in ADBC's schemas: `GetInfo` (a dense union per
//! item), `GetTableTypes`, and `GetObjects` (catalogs holding schemas holding tables holding
//! columns, as nested lists built bottom-up from flat arrays and offsets).

use std::sync::Arc;

use adbc_core::error::{Result, Status};
use adbc_core::schemas::{
    COLUMN_SCHEMA, GET_INFO_SCHEMA, GET_OBJECTS_SCHEMA, GET_TABLE_TYPES_SCHEMA,
    OBJECTS_DB_SCHEMA_SCHEMA, TABLE_SCHEMA,
};
use arrow::array::{
    ArrayRef, BooleanArray, Int16Array, Int32Array, Int64Array, ListArray, RecordBatch,
    StringArray, StructArray, UnionArray, new_empty_array, new_null_array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, FieldRef, Fields};
use dbapi::metadata::ColumnInfo;

use crate::error::adbc;

fn arrow_error(e: arrow::error::ArrowError) -> adbc_core::error::Error {
    adbc(Status::Internal, format!("building a metadata answer: {e}"))
}

/// One item of `GetInfo`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Info {
    Text(String),
    Flag(bool),
    Int(i64),
}

/// The `GetInfo` answer for these items.
pub(crate) fn info(items: &[(u32, Info)]) -> Result<RecordBatch> {
    let DataType::Union(fields, _) = GET_INFO_SCHEMA.field(1).data_type() else {
        return Err(adbc(Status::Internal, "GetInfo's value is not a union"));
    };
    let (mut texts, mut flags, mut ints) = (Vec::new(), Vec::new(), Vec::new());
    let mut type_ids = Vec::with_capacity(items.len());
    let mut offsets = Vec::with_capacity(items.len());
    let offset = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    for (_, value) in items {
        match value {
            Info::Text(s) => {
                type_ids.push(0_i8);
                offsets.push(offset(texts.len()));
                texts.push(s.as_str());
            }
            Info::Flag(b) => {
                type_ids.push(1);
                offsets.push(offset(flags.len()));
                flags.push(*b);
            }
            Info::Int(i) => {
                type_ids.push(2);
                offsets.push(offset(ints.len()));
                ints.push(*i);
            }
        }
    }
    let children: Vec<ArrayRef> = fields
        .iter()
        .map(|(id, field)| -> ArrayRef {
            match id {
                0 => Arc::new(StringArray::from(texts.clone())),
                1 => Arc::new(BooleanArray::from(flags.clone())),
                2 => Arc::new(Int64Array::from(ints.clone())),
                _ => new_empty_array(field.data_type()),
            }
        })
        .collect();
    let union = UnionArray::try_new(
        fields.clone(),
        ScalarBuffer::from(type_ids),
        Some(ScalarBuffer::from(offsets)),
        children,
    )
    .map_err(arrow_error)?;
    let ids: Vec<u32> = items.iter().map(|(id, _)| *id).collect();
    RecordBatch::try_new(
        Arc::clone(&GET_INFO_SCHEMA),
        vec![
            Arc::new(arrow::array::UInt32Array::from(ids)),
            Arc::new(union),
        ],
    )
    .map_err(arrow_error)
}

/// The `GetTableTypes` answer.
pub(crate) fn table_types(types: &[String]) -> Result<RecordBatch> {
    RecordBatch::try_new(
        Arc::clone(&GET_TABLE_TYPES_SCHEMA),
        vec![Arc::new(StringArray::from_iter_values(types))],
    )
    .map_err(arrow_error)
}

/// A catalog of a `GetObjects` answer; `None` lists were not asked for (a shallower depth).
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    pub(crate) name: Option<String>,
    pub(crate) schemas: Option<Vec<Schema>>,
}

/// A schema of a catalog.
#[derive(Debug, Clone, Default)]
pub(crate) struct Schema {
    pub(crate) name: Option<String>,
    pub(crate) tables: Option<Vec<Table>>,
}

/// A table of a schema.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    pub(crate) name: String,
    pub(crate) table_type: String,
    pub(crate) columns: Option<Vec<ColumnInfo>>,
}

/// The item fields of a list type.
fn item(list: &DataType) -> Result<FieldRef> {
    match list {
        DataType::List(field) => Ok(Arc::clone(field)),
        other => Err(adbc(Status::Internal, format!("{other} is not a list"))),
    }
}

fn struct_fields(t: &DataType) -> Result<Fields> {
    match t {
        DataType::Struct(fields) => Ok(fields.clone()),
        other => Err(adbc(Status::Internal, format!("{other} is not a struct"))),
    }
}

/// A list array of `values`, one list per entry of `lengths` (`None`: a NULL list).
fn lists(list_type: &DataType, values: ArrayRef, lengths: &[Option<usize>]) -> Result<ArrayRef> {
    let offsets = OffsetBuffer::from_lengths(lengths.iter().map(|l| l.unwrap_or(0)));
    let nulls = lengths
        .iter()
        .any(Option::is_none)
        .then(|| NullBuffer::from_iter(lengths.iter().map(Option::is_some)));
    Ok(Arc::new(
        ListArray::try_new(item(list_type)?, offsets, values, nulls).map_err(arrow_error)?,
    ))
}

/// A struct array whose fields are given by name; the fields not given are NULL.
fn structs(t: &DataType, len: usize, given: Vec<(&str, ArrayRef)>) -> Result<ArrayRef> {
    let fields = struct_fields(t)?;
    let columns = fields
        .iter()
        .map(|f| {
            given
                .iter()
                .find(|(name, _)| *name == f.name())
                .map_or_else(
                    || new_null_array(f.data_type(), len),
                    |(_, a)| Arc::clone(a),
                )
        })
        .collect();
    Ok(Arc::new(
        StructArray::try_new(fields, columns, None).map_err(arrow_error)?,
    ))
}

fn columns_array(columns: &[&ColumnInfo]) -> Result<ArrayRef> {
    let text = |f: &dyn Fn(&ColumnInfo) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from_iter(columns.iter().map(|c| f(c))))
    };
    structs(
        &COLUMN_SCHEMA,
        columns.len(),
        vec![
            ("column_name", text(&|c| Some(c.name.clone()))),
            (
                "ordinal_position",
                Arc::new(Int32Array::from_iter(
                    columns.iter().map(|c| i32::try_from(c.ordinal).ok()),
                )),
            ),
            ("remarks", text(&|c| c.remarks.clone())),
            ("xdbc_type_name", text(&|c| c.type_name.clone())),
            (
                "xdbc_nullable",
                Arc::new(Int16Array::from_iter_values(
                    columns.iter().map(|c| i16::from(c.nullable)),
                )),
            ),
            (
                "xdbc_is_nullable",
                text(&|c| Some(if c.nullable { "YES" } else { "NO" }.to_owned())),
            ),
        ],
    )
}

/// The `GetObjects` answer for these catalogs.
pub(crate) fn objects(catalogs: &[Catalog]) -> Result<RecordBatch> {
    let schemas: Vec<&Schema> = catalogs
        .iter()
        .flat_map(|c| c.schemas.iter().flatten())
        .collect();
    let tables: Vec<&Table> = schemas
        .iter()
        .flat_map(|s| s.tables.iter().flatten())
        .collect();
    let columns: Vec<&ColumnInfo> = tables
        .iter()
        .flat_map(|t| t.columns.iter().flatten())
        .collect();

    let table_fields = struct_fields(&TABLE_SCHEMA)?;
    let list_type = |name: &str| -> Result<DataType> {
        table_fields
            .iter()
            .find(|f| f.name() == name)
            .map(|f| f.data_type().clone())
            .ok_or_else(|| adbc(Status::Internal, format!("no field {name}")))
    };
    let column_lists = lists(
        &list_type("table_columns")?,
        columns_array(&columns)?,
        &tables
            .iter()
            .map(|t| t.columns.as_ref().map(Vec::len))
            .collect::<Vec<_>>(),
    )?;
    let constraint_type = list_type("table_constraints")?;
    let constraint_lists = new_null_array(&constraint_type, tables.len());
    let table_array = structs(
        &TABLE_SCHEMA,
        tables.len(),
        vec![
            (
                "table_name",
                Arc::new(StringArray::from_iter_values(
                    tables.iter().map(|t| &t.name),
                )),
            ),
            (
                "table_type",
                Arc::new(StringArray::from_iter_values(
                    tables.iter().map(|t| &t.table_type),
                )),
            ),
            ("table_columns", column_lists),
            ("table_constraints", constraint_lists),
        ],
    )?;
    let schema_fields = struct_fields(&OBJECTS_DB_SCHEMA_SCHEMA)?;
    let tables_type = schema_fields
        .iter()
        .find(|f| f.name() == "db_schema_tables")
        .map(|f| f.data_type().clone())
        .ok_or_else(|| adbc(Status::Internal, "no field db_schema_tables"))?;
    let table_lists = lists(
        &tables_type,
        table_array,
        &schemas
            .iter()
            .map(|s| s.tables.as_ref().map(Vec::len))
            .collect::<Vec<_>>(),
    )?;
    let schema_array = structs(
        &OBJECTS_DB_SCHEMA_SCHEMA,
        schemas.len(),
        vec![
            (
                "db_schema_name",
                Arc::new(StringArray::from_iter(
                    schemas.iter().map(|s| s.name.as_deref()),
                )),
            ),
            ("db_schema_tables", table_lists),
        ],
    )?;
    let schema_lists = lists(
        GET_OBJECTS_SCHEMA.field(1).data_type(),
        schema_array,
        &catalogs
            .iter()
            .map(|c| c.schemas.as_ref().map(Vec::len))
            .collect::<Vec<_>>(),
    )?;
    let names = StringArray::from_iter(catalogs.iter().map(|c| c.name.as_deref()));
    RecordBatch::try_new(
        Arc::clone(&GET_OBJECTS_SCHEMA),
        vec![Arc::new(names), schema_lists],
    )
    .map_err(arrow_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};

    #[test]
    fn info_items_keep_their_types() {
        let batch = info(&[
            (0, Info::Text("srv".into())),
            (3, Info::Flag(true)),
            (103, Info::Int(1_001_000)),
        ])
        .unwrap();
        let decoded = dbapi::metadata::decode_info(&[batch]).unwrap();
        assert_eq!(decoded[&0].as_str(), Some("srv"));
        assert_eq!(decoded[&3].as_bool(), Some(true));
        assert_eq!(decoded[&103].as_i64(), Some(1_001_000));
    }

    #[test]
    fn objects_nest_at_every_depth() {
        let column = ColumnInfo {
            name: "id".into(),
            data_type: DataType::Int64,
            nullable: false,
            ordinal: 1,
            remarks: None,
            type_name: Some("BIGINT".into()),
        };
        let catalogs = [
            Catalog {
                name: Some("a".into()),
                schemas: Some(vec![Schema {
                    name: Some("s".into()),
                    tables: Some(vec![
                        Table {
                            name: "t".into(),
                            table_type: "TABLE".into(),
                            columns: Some(vec![column]),
                        },
                        Table {
                            name: "u".into(),
                            table_type: "VIEW".into(),
                            columns: Some(vec![]),
                        },
                    ]),
                }]),
            },
            Catalog {
                name: Some("b".into()),
                schemas: None,
            },
        ];
        let batch = objects(&catalogs).unwrap();
        assert_eq!(batch.schema(), *GET_OBJECTS_SCHEMA);
        assert_eq!(batch.num_rows(), 2);
        let schemas = batch.column(1).as_list::<i32>();
        assert!(schemas.is_null(1));
        let first = schemas.value(0);
        let tables = first.as_struct().column(1).as_list::<i32>().value(0);
        let tables = tables.as_struct();
        assert_eq!(tables.len(), 2);
        let columns = tables.column(2).as_list::<i32>();
        assert_eq!(columns.value(0).len(), 1);
        assert_eq!(columns.value(1).len(), 0);
        // Shallower: catalogs only.
        let batch = objects(&[Catalog {
            name: Some("a".into()),
            schemas: None,
        }])
        .unwrap();
        assert_eq!(batch.num_rows(), 1);
    }
}

//! Metadata through ADBC's `GetObjects`, `GetInfo`, `GetTableSchema` and `GetTableTypes`,
//! answered as the `dbapi::metadata` types.

use std::sync::Arc;

use adbc_core::Connection as _;
use adbc_core::options::ObjectDepth;
use arrow::array::{Array, AsArray};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchReader};
use dbapi::metadata::{
    ColumnInfo, InfoValue, KeyColumn, SchemaInfo, ServerInfo, TableFilter, TableInfo, TableRef,
    decode_info, like,
};
use dbapi::{Error, Result};

use crate::native::{Call, Native};
use crate::objects::{self, Catalog};
use crate::slot::OpenResult;
use adbc_driver_manager::ManagedConnection;

/// ADBC's info codes that [`ServerInfo`] has fields for.
mod code {
    pub(super) const VENDOR_NAME: u32 = 0;
    pub(super) const VENDOR_VERSION: u32 = 1;
    pub(super) const VENDOR_ARROW_VERSION: u32 = 2;
    pub(super) const VENDOR_SUBSTRAIT: u32 = 4;
    pub(super) const DRIVER_NAME: u32 = 100;
}

/// Every batch of a reader the driver returned, read under the lock already held.
fn read_all(
    call: &Call<'_>,
    reader: Box<dyn RecordBatchReader + Send>,
    what: &str,
) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    for batch in reader {
        out.push(batch.map_err(|e| call.arrow_error(&e, what))?);
    }
    Ok(out)
}

/// A `GetObjects` request.
#[derive(Clone, Default)]
struct Objects {
    depth: Depth,
    catalog: Option<String>,
    schema: Option<String>,
    table: Option<String>,
    table_types: Vec<String>,
    column: Option<String>,
}

#[derive(Clone, Copy, Default)]
enum Depth {
    #[default]
    Catalogs,
    Schemas,
    Tables,
    Columns,
}

async fn objects(native: &Arc<Native>, request: Objects) -> Result<Vec<Catalog>> {
    native
        .run("listing objects", move |call| {
            let depth = match request.depth {
                Depth::Catalogs => ObjectDepth::Catalogs,
                Depth::Schemas => ObjectDepth::Schemas,
                Depth::Tables => ObjectDepth::Tables,
                Depth::Columns => ObjectDepth::Columns,
            };
            let types: Option<Vec<&str>> = (!request.table_types.is_empty())
                .then(|| request.table_types.iter().map(String::as_str).collect());
            let reader = call
                .conn
                .get_objects(
                    depth,
                    request.catalog.as_deref(),
                    request.schema.as_deref(),
                    request.table.as_deref(),
                    types,
                    request.column.as_deref(),
                )
                .map_err(|e| call.error(e, "listing objects"))?;
            let batches = read_all(call, reader, "listing objects")?;
            objects::decode(&batches)
        })
        .await
}

/// The catalogs, sorted.
pub(crate) async fn catalogs(native: &Arc<Native>) -> Result<Vec<String>> {
    let mut names: Vec<String> = objects(native, Objects::default())
        .await?
        .into_iter()
        .filter_map(|c| c.name)
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// The schemas of `catalog` matching `pattern`.
pub(crate) async fn schemas(
    native: &Arc<Native>,
    catalog: Option<&str>,
    pattern: Option<&str>,
) -> Result<Vec<SchemaInfo>> {
    let request = Objects {
        depth: Depth::Schemas,
        catalog: catalog.map(str::to_owned),
        schema: pattern.map(str::to_owned),
        ..Objects::default()
    };
    let mut out = Vec::new();
    for catalog in objects(native, request).await? {
        for schema in catalog.schemas {
            let Some(name) = schema.name else { continue };
            out.push(SchemaInfo {
                catalog: catalog.name.clone(),
                name,
            });
        }
    }
    Ok(out)
}

/// The tables the filter selects, with their columns (Arrow types from `GetTableSchema`,
/// the rest from `GetObjects`) when it asks.
pub(crate) async fn tables(native: &Arc<Native>, filter: &TableFilter) -> Result<Vec<TableInfo>> {
    let request = Objects {
        depth: if filter.with_columns {
            Depth::Columns
        } else {
            Depth::Tables
        },
        catalog: filter.catalog.clone(),
        schema: filter.schema_pattern.clone(),
        table: filter.table_pattern.clone(),
        table_types: filter.table_types.clone(),
        column: filter.column_pattern.clone(),
    };
    let mut out = Vec::new();
    for catalog in objects(native, request).await? {
        for schema in catalog.schemas {
            for table in schema.tables {
                let mut info = TableInfo {
                    catalog: catalog.name.clone(),
                    schema: schema.name.clone(),
                    name: table.name,
                    table_type: table.table_type,
                    columns: Vec::new(),
                };
                if filter.with_columns {
                    let arrow = table_schema(native, &table_ref(&info)).await?;
                    info.columns = columns(&arrow, table.columns, filter.column_pattern.as_deref());
                }
                out.push(info);
            }
        }
    }
    Ok(out)
}

fn table_ref(info: &TableInfo) -> TableRef {
    let mut table = TableRef::new(info.name.clone());
    table.catalog.clone_from(&info.catalog);
    table.schema.clone_from(&info.schema);
    table
}

/// The columns of a table: the Arrow schema's fields in order, with what `GetObjects` says of
/// each (ordinal, type name, remarks).
fn columns(
    arrow: &SchemaRef,
    described: Vec<objects::ColumnObject>,
    pattern: Option<&str>,
) -> Vec<ColumnInfo> {
    let mut out = Vec::new();
    for (index, field) in arrow.fields().iter().enumerate() {
        if let Some(pattern) = pattern
            && !like(field.name(), pattern, Some('\\'))
        {
            continue;
        }
        let object = described.iter().find(|c| c.name == *field.name());
        out.push(ColumnInfo {
            name: field.name().clone(),
            data_type: field.data_type().clone(),
            nullable: match object.and_then(|c| c.nullable) {
                Some(0) => false,
                Some(_) | None => field.is_nullable(),
            },
            ordinal: object
                .and_then(|c| c.ordinal)
                .and_then(|o| usize::try_from(o).ok())
                .unwrap_or(index + 1),
            remarks: object.and_then(|c| c.remarks.clone()),
            type_name: object.and_then(|c| c.type_name.clone()),
        });
    }
    out
}

/// The table types.
pub(crate) async fn table_types(native: &Arc<Native>) -> Result<Vec<String>> {
    native
        .run("listing table types", |call| {
            let reader = call
                .conn
                .get_table_types()
                .map_err(|e| call.error(e, "listing table types"))?;
            let batches = read_all(call, reader, "listing table types")?;
            let mut out = Vec::new();
            for batch in &batches {
                let column = batch.column_by_name("table_type").ok_or_else(|| {
                    Error::internal("ADBC GetTableTypes: the answer has no column \"table_type\"")
                })?;
                let strings = column.as_string_opt::<i32>().ok_or_else(|| {
                    Error::internal(format!(
                        "ADBC GetTableTypes: \"table_type\" is a {}, not text",
                        column.data_type()
                    ))
                })?;
                out.extend(strings.iter().flatten().map(str::to_owned));
            }
            Ok(out)
        })
        .await
}

/// The Arrow schema of one table.
pub(crate) async fn table_schema(native: &Arc<Native>, table: &TableRef) -> Result<SchemaRef> {
    let table = table.clone();
    native
        .run("reading a table's schema", move |call| {
            call.conn
                .get_table_schema(
                    table.catalog.as_deref(),
                    table.schema.as_deref(),
                    &table.name,
                )
                .map(Arc::new)
                .map_err(|e| call.error(e, &format!("reading the schema of {}", table.name)))
        })
        .await
}

/// The primary key of one table, from its `PRIMARY KEY` constraint.
pub(crate) async fn primary_keys(native: &Arc<Native>, table: &TableRef) -> Result<Vec<KeyColumn>> {
    let request = Objects {
        depth: Depth::Columns,
        catalog: table.catalog.clone(),
        schema: table.schema.clone(),
        table: Some(table.name.clone()),
        ..Objects::default()
    };
    let mut out = Vec::new();
    for catalog in objects(native, request).await? {
        for schema in catalog.schemas {
            // A pattern matched more than the name: keep the table itself.
            for found in schema.tables.into_iter().filter(|t| t.name == table.name) {
                for constraint in found.constraints {
                    if !constraint.kind.eq_ignore_ascii_case("PRIMARY KEY") {
                        continue;
                    }
                    for (i, column) in constraint.columns.into_iter().enumerate() {
                        let mut key_table = TableRef::new(found.name.clone());
                        key_table.catalog.clone_from(&catalog.name);
                        key_table.schema.clone_from(&schema.name);
                        out.push(KeyColumn {
                            table: key_table,
                            column,
                            key_sequence: i32::try_from(i + 1).unwrap_or(i32::MAX),
                            key_name: constraint.name.clone(),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Every information item the driver gives, by ADBC info code.
pub(crate) async fn info(native: &Arc<Native>) -> Result<ServerInfo> {
    let raw = native
        .run("reading server info", |call| {
            let reader = call
                .conn
                .get_info(None)
                .map_err(|e| call.error(e, "reading server info"))?;
            let batches = read_all(call, reader, "reading server info")?;
            decode_info(&batches)
        })
        .await?;
    let text = |id| raw.get(&id).and_then(InfoValue::as_str).map(str::to_owned);
    Ok(ServerInfo {
        name: text(code::VENDOR_NAME),
        version: text(code::VENDOR_VERSION),
        arrow_version: text(code::VENDOR_ARROW_VERSION),
        substrait: raw
            .get(&code::VENDOR_SUBSTRAIT)
            .and_then(InfoValue::as_bool),
        raw,
        ..ServerInfo::default()
    })
}

/// The driver's name as it gives it (`GetInfo`'s `DRIVER_NAME`), `None` when it does not.
pub(crate) fn driver_name(conn: &ManagedConnection) -> Option<String> {
    let codes = [adbc_core::options::InfoCode::DriverName]
        .into_iter()
        .collect();
    let reader = conn.get_info(Some(codes)).ok()?;
    let batches = reader.collect::<std::result::Result<Vec<_>, _>>().ok()?;
    let raw = decode_info(&batches).ok()?;
    raw.get(&code::DRIVER_NAME)
        .and_then(InfoValue::as_str)
        .map(str::to_owned)
}

/// `GetTableTypes` as the driver's own stream.
pub(crate) async fn table_types_reader(native: &Arc<Native>) -> Result<OpenResult> {
    native
        .run("listing table types", |call| {
            let reader = call
                .conn
                .get_table_types()
                .map_err(|e| call.error(e, "listing table types"))?;
            Ok(call.open_result(reader, Box::new(())))
        })
        .await
}

/// `GetInfo` of these ADBC info codes (every one when empty) as the driver's own stream.
pub(crate) async fn info_reader(native: &Arc<Native>, codes: Vec<u32>) -> Result<OpenResult> {
    native
        .run("reading server info", move |call| {
            let codes = (!codes.is_empty()).then(|| {
                codes
                    .into_iter()
                    .map(adbc_core::options::InfoCode::from)
                    .collect()
            });
            let reader = call
                .conn
                .get_info(codes)
                .map_err(|e| call.error(e, "reading server info"))?;
            Ok(call.open_result(reader, Box::new(())))
        })
        .await
}

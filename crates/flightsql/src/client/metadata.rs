//! Metadata: the Flight SQL `CommandGet*` commands, and their results decoded into the typed
//! answers of [`dbapi::metadata`].

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow_flight::FlightInfo;
use arrow_flight::sql::{
    CommandGetCatalogs, CommandGetCrossReference, CommandGetDbSchemas, CommandGetExportedKeys,
    CommandGetImportedKeys, CommandGetPrimaryKeys, CommandGetSqlInfo, CommandGetTableTypes,
    CommandGetTables, CommandGetXdbcTypeInfo, ProstMessageExt,
};
use dbapi::metadata::{
    ColumnInfo, ForeignKey, IdentifierCase, InfoValue, KeyColumn, MetadataRequest,
    ReferentialAction, SchemaInfo, ServerInfo, TableFilter, TableInfo, TableRef, escape_like, like,
};
use dbapi::{Error, Result};
use prost::Message;

use crate::client::rpc::FlightSqlClient;
use crate::decode::keys;

/// `SqlInfo` ids read into [`ServerInfo`]'s fields.
pub(crate) mod info {
    pub const SERVER_NAME: u32 = 0;
    pub const SERVER_VERSION: u32 = 1;
    pub const SERVER_ARROW_VERSION: u32 = 2;
    pub const SERVER_READ_ONLY: u32 = 3;
    pub const SERVER_SUBSTRAIT: u32 = 5;
    pub const SERVER_TRANSACTION: u32 = 8;
    pub const SERVER_CANCEL: u32 = 9;
    pub const IDENTIFIER_CASE: u32 = 503;
    pub const IDENTIFIER_QUOTE_CHAR: u32 = 504;
    pub const QUOTED_IDENTIFIER_CASE: u32 = 505;
    pub const KEYWORDS: u32 = 508;
    pub const SEARCH_STRING_ESCAPE: u32 = 513;
}

/// The Flight SQL command that answers a metadata request, and its name (for messages).
fn command(request: &MetadataRequest) -> Result<(Vec<u8>, &'static str)> {
    fn any<M: ProstMessageExt>(m: M) -> Vec<u8> {
        m.as_any().encode_to_vec()
    }
    Ok(match request {
        MetadataRequest::Catalogs => (any(CommandGetCatalogs {}), "CommandGetCatalogs"),
        MetadataRequest::Schemas {
            catalog,
            schema_pattern,
        } => (
            any(CommandGetDbSchemas {
                catalog: catalog.clone(),
                db_schema_filter_pattern: schema_pattern.clone(),
            }),
            "CommandGetDbSchemas",
        ),
        MetadataRequest::Tables(filter) => (
            any(CommandGetTables {
                catalog: filter.catalog.clone(),
                db_schema_filter_pattern: filter.schema_pattern.clone(),
                table_name_filter_pattern: filter.table_pattern.clone(),
                table_types: filter.table_types.clone(),
                include_schema: filter.with_columns,
            }),
            "CommandGetTables",
        ),
        MetadataRequest::TableTypes => (any(CommandGetTableTypes {}), "CommandGetTableTypes"),
        MetadataRequest::PrimaryKeys(t) => (
            any(CommandGetPrimaryKeys {
                catalog: t.catalog.clone(),
                db_schema: t.schema.clone(),
                table: t.name.clone(),
            }),
            "CommandGetPrimaryKeys",
        ),
        MetadataRequest::ImportedKeys(t) => (
            any(CommandGetImportedKeys {
                catalog: t.catalog.clone(),
                db_schema: t.schema.clone(),
                table: t.name.clone(),
            }),
            "CommandGetImportedKeys",
        ),
        MetadataRequest::ExportedKeys(t) => (
            any(CommandGetExportedKeys {
                catalog: t.catalog.clone(),
                db_schema: t.schema.clone(),
                table: t.name.clone(),
            }),
            "CommandGetExportedKeys",
        ),
        MetadataRequest::CrossReference { primary, foreign } => (
            any(CommandGetCrossReference {
                pk_catalog: primary.catalog.clone(),
                pk_db_schema: primary.schema.clone(),
                pk_table: primary.name.clone(),
                fk_catalog: foreign.catalog.clone(),
                fk_db_schema: foreign.schema.clone(),
                fk_table: foreign.name.clone(),
            }),
            "CommandGetCrossReference",
        ),
        MetadataRequest::ServerInfo(ids) => (
            any(CommandGetSqlInfo { info: ids.clone() }),
            "CommandGetSqlInfo",
        ),
        MetadataRequest::TypeInfo(data_type) => (
            any(CommandGetXdbcTypeInfo {
                data_type: *data_type,
            }),
            "CommandGetXdbcTypeInfo",
        ),
        other => {
            return Err(Error::not_supported(format!(
                "metadata request {:?} has no Flight SQL command",
                other.name()
            )));
        }
    })
}

impl FlightSqlClient {
    /// Asks a metadata question (`GetFlightInfo` of the matching `CommandGet*` command) and
    /// returns where its answer is: catalogs, schemas, tables, table types, keys, `SqlInfo`
    /// or XDBC type info. The answer's schema is the one the Flight SQL specification gives
    /// for the command (see `docs/metadata.md`).
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](dbapi::ErrorKind::NotSupported), naming the command and
    /// quoting the server, when the server does not implement the command; the server's
    /// error.
    pub async fn metadata(&self, request: &MetadataRequest) -> Result<FlightInfo> {
        let (command, name) = command(request)?;
        self.get_flight_info(name, command).await
    }

    /// The server's `SqlInfo` items with these ids (all of them when `ids` is empty), typed
    /// by the union's field names (servers order the union's types differently).
    ///
    /// # Errors
    /// As [`FlightSqlClient::metadata`]; an
    /// [`ErrorKind::Internal`](dbapi::ErrorKind::Internal) error for a malformed answer.
    pub async fn sql_info(&self, ids: &[u32]) -> Result<BTreeMap<u32, InfoValue>> {
        let info = self
            .metadata(&MetadataRequest::ServerInfo(ids.to_vec()))
            .await?;
        let mut batches = Vec::new();
        for endpoint in &info.endpoint {
            batches.extend(self.do_get_endpoint(endpoint).await?.read_all().await?);
        }
        dbapi::metadata::decode_info(&batches)
    }
}

/// The same request for one catalog (the fallback for servers that list schemas and tables
/// only when asked per catalog).
pub(crate) fn for_catalog(request: &MetadataRequest, catalog: &str) -> Option<MetadataRequest> {
    match request {
        MetadataRequest::Schemas {
            catalog: None,
            schema_pattern,
        } => Some(MetadataRequest::Schemas {
            catalog: Some(catalog.to_owned()),
            schema_pattern: schema_pattern.clone(),
        }),
        MetadataRequest::Tables(filter) if filter.catalog.is_none() => {
            Some(MetadataRequest::Tables(TableFilter {
                catalog: Some(catalog.to_owned()),
                ..filter.clone()
            }))
        }
        _ => None,
    }
}

/// The request that finds one table by exact name: wildcards in its names escaped.
pub(crate) fn find_table(table: &TableRef, escape: &str) -> MetadataRequest {
    MetadataRequest::Tables(TableFilter {
        catalog: table.catalog.clone(),
        schema_pattern: table.schema.as_deref().map(|s| escape_like(s, escape)),
        table_pattern: Some(escape_like(&table.name, escape)),
        with_columns: true,
        ..TableFilter::default()
    })
}

fn column<'a>(batch: &'a RecordBatch, name: &str, what: &str) -> Result<&'a ArrayRef> {
    batch.column_by_name(name).ok_or_else(|| {
        Error::internal(format!(
            "the server's {what} answer lacks the column {name:?}"
        ))
    })
}

/// A column's values as optional strings (any string type).
fn texts(batch: &RecordBatch, name: &str, what: &str) -> Result<Vec<Option<String>>> {
    let array = arrow::compute::cast(column(batch, name, what)?, &DataType::Utf8).map_err(|e| {
        Error::internal(format!("{what}: column {name:?} is not text")).with_source(e)
    })?;
    Ok(array
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect())
}

/// A column's values as required strings.
fn required_texts(batch: &RecordBatch, name: &str, what: &str) -> Result<Vec<String>> {
    texts(batch, name, what)?
        .into_iter()
        .map(|v| v.ok_or_else(|| Error::internal(format!("{what}: column {name:?} holds a NULL"))))
        .collect()
}

/// A column's values as integers (any integer type).
fn integers(batch: &RecordBatch, name: &str, what: &str) -> Result<Vec<i64>> {
    let array =
        arrow::compute::cast(column(batch, name, what)?, &DataType::Int64).map_err(|e| {
            Error::internal(format!("{what}: column {name:?} is not an integer")).with_source(e)
        })?;
    let array = array.as_primitive::<arrow::datatypes::Int64Type>();
    if array.null_count() > 0 {
        return Err(Error::internal(format!(
            "{what}: column {name:?} holds a NULL"
        )));
    }
    Ok(array.values().to_vec())
}

/// A table reference from three columns of a result.
fn table_refs(
    batch: &RecordBatch,
    [catalog, schema, table]: [&str; 3],
    what: &str,
) -> Result<Vec<TableRef>> {
    let catalogs = texts(batch, catalog, what)?;
    let schemas = texts(batch, schema, what)?;
    let names = required_texts(batch, table, what)?;
    Ok(catalogs
        .into_iter()
        .zip(schemas)
        .zip(names)
        .map(|((catalog, schema), name)| TableRef {
            catalog,
            schema,
            name,
        })
        .collect())
}

pub(crate) fn decode_catalogs(batches: &[RecordBatch]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for batch in batches {
        out.extend(required_texts(batch, "catalog_name", "catalogs")?);
    }
    Ok(out)
}

pub(crate) fn decode_schemas(batches: &[RecordBatch]) -> Result<Vec<SchemaInfo>> {
    let mut out = Vec::new();
    for batch in batches {
        let catalogs = texts(batch, "catalog_name", "schemas")?;
        let names = required_texts(batch, "db_schema_name", "schemas")?;
        out.extend(
            catalogs
                .into_iter()
                .zip(names)
                .map(|(catalog, name)| SchemaInfo { catalog, name }),
        );
    }
    Ok(out)
}

pub(crate) fn decode_table_types(batches: &[RecordBatch]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for batch in batches {
        out.extend(required_texts(batch, "table_type", "table types")?);
    }
    Ok(out)
}

/// The `table_schema` column of a `GetTables` answer: each table's IPC-encoded schema.
fn table_schemas(batch: &RecordBatch) -> Result<Vec<Option<Vec<u8>>>> {
    let array = column(batch, "table_schema", "tables")?;
    let binary = arrow::compute::cast(array, &DataType::Binary).map_err(|e| {
        Error::internal("tables: column \"table_schema\" is not binary").with_source(e)
    })?;
    let binary = binary.as_binary::<i32>();
    Ok((0..binary.len())
        .map(|i| (!binary.is_null(i)).then(|| binary.value(i).to_vec()))
        .collect())
}

/// Decodes an IPC-encoded schema (the `table_schema` column of `GetTables`).
fn decode_table_schema(bytes: &[u8], table: &TableRef) -> Result<Schema> {
    crate::decode::schema(bytes, &format!("schema of table {table} (GetTables)"))
}

/// The columns of a table's schema, those whose name matches `pattern`.
pub(crate) fn columns_of(
    schema: &Schema,
    pattern: Option<&str>,
    escape: Option<char>,
) -> Vec<ColumnInfo> {
    schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| pattern.is_none_or(|p| like(f.name(), p, escape)))
        .map(|(i, f)| {
            let meta = f.metadata();
            let text = |key: &str| meta.get(key).filter(|v| !v.is_empty()).cloned();
            ColumnInfo {
                name: f.name().clone(),
                data_type: f.data_type().clone(),
                nullable: f.is_nullable(),
                ordinal: i + 1,
                remarks: text(keys::REMARKS),
                type_name: text(keys::TYPE_NAME),
            }
        })
        .collect()
}

/// Decodes `GetTables` answers; with `filter.with_columns`, each table's columns.
pub(crate) fn decode_tables(
    batches: &[RecordBatch],
    filter: &TableFilter,
    escape: Option<char>,
) -> Result<Vec<TableInfo>> {
    let mut out = Vec::new();
    for batch in batches {
        let tables = table_refs(
            batch,
            ["catalog_name", "db_schema_name", "table_name"],
            "tables",
        )?;
        let types = required_texts(batch, "table_type", "tables")?;
        let schemas = if filter.with_columns {
            table_schemas(batch)?
        } else {
            vec![None; tables.len()]
        };
        for ((table, table_type), schema) in tables.into_iter().zip(types).zip(schemas) {
            let columns = match schema {
                Some(bytes) => columns_of(
                    &decode_table_schema(&bytes, &table)?,
                    filter.column_pattern.as_deref(),
                    escape,
                ),
                None => Vec::new(),
            };
            out.push(TableInfo {
                catalog: table.catalog,
                schema: table.schema,
                name: table.name,
                table_type,
                columns,
            });
        }
    }
    Ok(out)
}

/// The schema of the one table among `GetTables` answers that is exactly `table`.
pub(crate) fn decode_table_schema_of(
    batches: &[RecordBatch],
    table: &TableRef,
) -> Result<SchemaRef> {
    let mut found = Vec::new();
    for batch in batches {
        let tables = table_refs(
            batch,
            ["catalog_name", "db_schema_name", "table_name"],
            "tables",
        )?;
        let schemas = table_schemas(batch)?;
        for (t, bytes) in tables.into_iter().zip(schemas) {
            let exact = t.name == table.name
                && (table.schema.is_none() || t.schema == table.schema)
                && (table.catalog.is_none() || t.catalog == table.catalog);
            if exact {
                found.push((t, bytes));
            }
        }
    }
    match found.len() {
        0 => Err(Error::programming(format!("no table named {table}"))),
        1 => {
            let (t, bytes) = found.remove(0);
            let bytes = bytes.ok_or_else(|| {
                Error::internal(format!("tables: the server sent no schema for table {t}"))
            })?;
            Ok(Arc::new(decode_table_schema(&bytes, &t)?))
        }
        _ => {
            let names: Vec<String> = found.iter().map(|(t, _)| t.to_string()).collect();
            Err(Error::programming(format!(
                "table name {table} is ambiguous: it names {}; qualify it with its schema or catalog",
                names.join(", ")
            )))
        }
    }
}

pub(crate) fn decode_primary_keys(batches: &[RecordBatch]) -> Result<Vec<KeyColumn>> {
    let what = "primary keys";
    let mut out = Vec::new();
    for batch in batches {
        let tables = table_refs(
            batch,
            ["catalog_name", "db_schema_name", "table_name"],
            what,
        )?;
        let columns = required_texts(batch, "column_name", what)?;
        let names = texts(batch, "key_name", what)?;
        let sequences = integers(batch, "key_sequence", what)?;
        for (((table, column), key_name), seq) in
            tables.into_iter().zip(columns).zip(names).zip(sequences)
        {
            out.push(KeyColumn {
                table,
                column,
                key_sequence: i32::try_from(seq).unwrap_or(i32::MAX),
                key_name,
            });
        }
    }
    out.sort_by_key(|k| k.key_sequence);
    Ok(out)
}

pub(crate) fn decode_foreign_keys(batches: &[RecordBatch]) -> Result<Vec<ForeignKey>> {
    let what = "foreign keys";
    let mut out = Vec::new();
    let rule = |v: i64| ReferentialAction::from_code(u8::try_from(v).unwrap_or(u8::MAX));
    for batch in batches {
        let primary = table_refs(
            batch,
            ["pk_catalog_name", "pk_db_schema_name", "pk_table_name"],
            what,
        )?;
        let foreign = table_refs(
            batch,
            ["fk_catalog_name", "fk_db_schema_name", "fk_table_name"],
            what,
        )?;
        let pk_columns = required_texts(batch, "pk_column_name", what)?;
        let fk_columns = required_texts(batch, "fk_column_name", what)?;
        let sequences = integers(batch, "key_sequence", what)?;
        let fk_names = texts(batch, "fk_key_name", what)?;
        let pk_names = texts(batch, "pk_key_name", what)?;
        let updates = integers(batch, "update_rule", what)?;
        let deletes = integers(batch, "delete_rule", what)?;
        for i in 0..batch.num_rows() {
            out.push(ForeignKey {
                primary_table: primary[i].clone(),
                primary_column: pk_columns[i].clone(),
                foreign_table: foreign[i].clone(),
                foreign_column: fk_columns[i].clone(),
                key_sequence: i32::try_from(sequences[i]).unwrap_or(i32::MAX),
                foreign_key_name: fk_names[i].clone(),
                primary_key_name: pk_names[i].clone(),
                update_rule: rule(updates[i]),
                delete_rule: rule(deletes[i]),
            });
        }
    }
    Ok(out)
}

fn identifier_case(value: Option<&InfoValue>) -> Option<IdentifierCase> {
    Some(match value?.as_i64()? {
        1 => IdentifierCase::CaseInsensitive,
        2 => IdentifierCase::Uppercase,
        3 => IdentifierCase::Lowercase,
        _ => IdentifierCase::Unknown,
    })
}

/// The typed [`ServerInfo`] of a server's `SqlInfo` items.
pub(crate) fn server_info(raw: BTreeMap<u32, InfoValue>) -> ServerInfo {
    let text = |id| raw.get(&id).and_then(InfoValue::as_str).map(str::to_owned);
    let flag = |id| raw.get(&id).and_then(InfoValue::as_bool);
    let transaction = raw
        .get(&info::SERVER_TRANSACTION)
        .and_then(InfoValue::as_i64);
    ServerInfo {
        name: text(info::SERVER_NAME),
        version: text(info::SERVER_VERSION),
        arrow_version: text(info::SERVER_ARROW_VERSION),
        read_only: flag(info::SERVER_READ_ONLY),
        transactions: transaction.map(|t| t >= 1),
        savepoints: transaction.map(|t| t >= 2),
        cancel: flag(info::SERVER_CANCEL),
        substrait: flag(info::SERVER_SUBSTRAIT),
        identifier_quote: text(info::IDENTIFIER_QUOTE_CHAR),
        identifier_case: identifier_case(raw.get(&info::IDENTIFIER_CASE)),
        quoted_identifier_case: identifier_case(raw.get(&info::QUOTED_IDENTIFIER_CASE)),
        search_string_escape: text(info::SEARCH_STRING_ESCAPE),
        keywords: match raw.get(&info::KEYWORDS) {
            Some(InfoValue::StringList(k)) => k.clone(),
            _ => Vec::new(),
        },
        raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        BooleanArray, Int32Array, Int64Array, ListArray, StringArray, UInt32Array, UnionArray,
    };
    use arrow::buffer::ScalarBuffer;
    use arrow::datatypes::{Field, UnionFields};

    /// A `GetSqlInfo` answer whose union lists its members in an order of its own.
    fn shuffled_sql_info() -> RecordBatch {
        let list = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
        let fields = UnionFields::try_new(
            [7, 3, 1, 0],
            [
                Field::new("string_list", list, true),
                Field::new("int32_bitmask", DataType::Int32, true),
                Field::new("bool_value", DataType::Boolean, true),
                Field::new("string_value", DataType::Utf8, true),
            ],
        )
        .unwrap();
        let strings = ListArray::new(
            Arc::new(Field::new("item", DataType::Utf8, true)),
            arrow::buffer::OffsetBuffer::from_lengths([2]),
            Arc::new(StringArray::from(vec!["ASOF", "QUALIFY"])),
            None,
        );
        let children: Vec<ArrayRef> = vec![
            Arc::new(strings),
            Arc::new(Int32Array::from(vec![3, 2])),
            Arc::new(BooleanArray::from(vec![true])),
            Arc::new(StringArray::from(vec!["srv"])),
        ];
        let union = UnionArray::try_new(
            fields,
            ScalarBuffer::from(vec![0_i8, 3, 1, 7, 3]),
            Some(ScalarBuffer::from(vec![0_i32, 0, 0, 0, 1])),
            children,
        )
        .unwrap();
        let ids = UInt32Array::from(vec![
            info::SERVER_NAME,
            info::IDENTIFIER_CASE,
            info::SERVER_READ_ONLY,
            info::KEYWORDS,
            info::SERVER_TRANSACTION,
        ]);
        RecordBatch::try_from_iter([
            ("info_name", Arc::new(ids) as ArrayRef),
            ("value", Arc::new(union) as ArrayRef),
        ])
        .unwrap()
    }

    #[test]
    fn sql_info_is_decoded_by_member_name_not_position() {
        let raw = dbapi::metadata::decode_info(&[shuffled_sql_info()]).unwrap();
        assert_eq!(raw[&info::SERVER_NAME], InfoValue::String("srv".into()));
        assert_eq!(raw[&info::SERVER_READ_ONLY], InfoValue::Bool(true));
        assert_eq!(raw[&info::IDENTIFIER_CASE], InfoValue::Int32Bitmask(3));
        let info = server_info(raw);
        assert_eq!(info.name.as_deref(), Some("srv"));
        assert_eq!(info.read_only, Some(true));
        assert_eq!(info.identifier_case, Some(IdentifierCase::Lowercase));
        assert_eq!(info.keywords, ["ASOF", "QUALIFY"]);
        assert_eq!(
            (info.transactions, info.savepoints),
            (Some(true), Some(true))
        );
        assert_eq!(info.version, None);
    }

    #[test]
    fn missing_columns_are_named() {
        let batch = RecordBatch::try_from_iter([(
            "catalog",
            Arc::new(Int64Array::from(vec![1])) as ArrayRef,
        )])
        .unwrap();
        let err = decode_catalogs(&[batch]).unwrap_err();
        assert!(err.to_string().contains("\"catalog_name\""), "{err}");
    }

    #[test]
    fn exact_table_lookups_escape_wildcards() {
        let request = find_table(&TableRef::new("my_table").in_schema("s%"), "\\");
        let MetadataRequest::Tables(filter) = request else {
            panic!("not a tables request");
        };
        assert_eq!(filter.table_pattern.as_deref(), Some("my\\_table"));
        assert_eq!(filter.schema_pattern.as_deref(), Some("s\\%"));
        assert!(filter.with_columns);
    }
}

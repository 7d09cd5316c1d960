//! Metadata answers: DataFusion's catalogs, schemas and tables, the keys declared for tests,
//! `SqlInfo`, XDBC type info, and session options.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int32Array, RecordBatch, StringArray, UInt8Array, UnionArray};
use arrow::buffer::ScalarBuffer;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UnionFields};
use arrow_flight::sql::metadata::{
    GetCatalogsBuilder, SqlInfoData, SqlInfoDataBuilder, XdbcTypeInfo, XdbcTypeInfoData,
    XdbcTypeInfoDataBuilder,
};
use arrow_flight::sql::{
    CommandGetDbSchemas, CommandGetTableTypes, CommandGetTables, Nullable, Searchable, SqlInfo,
    SqlSupportedCaseSensitivity, SqlSupportedTransaction, SqlSupportsConvert, XdbcDataType,
};
use datafusion::datasource::TableType;
use datafusion::prelude::SessionContext;
use prost::Message;
use tonic::Status;

/// A table's full name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableName {
    /// The catalog.
    pub catalog: String,
    /// The schema.
    pub schema: String,
    /// The table.
    pub name: String,
}

impl TableName {
    /// `catalog.schema.name`.
    pub fn new(catalog: &str, schema: &str, name: &str) -> TableName {
        TableName {
            catalog: catalog.to_owned(),
            schema: schema.to_owned(),
            name: name.to_owned(),
        }
    }

    /// Whether this table is the one a metadata command names (catalog and schema optional).
    pub(crate) fn is(&self, catalog: Option<&String>, schema: Option<&String>, name: &str) -> bool {
        self.name == name
            && catalog.is_none_or(|c| *c == self.catalog)
            && schema.is_none_or(|s| *s == self.schema)
    }
}

/// A primary key declared for metadata (DataFusion keeps no keys itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryKey {
    /// The table.
    pub table: TableName,
    /// Its columns, in key order.
    pub columns: Vec<String>,
    /// The key's name.
    pub name: Option<String>,
}

/// A foreign key declared for metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The referencing table.
    pub table: TableName,
    /// Its columns, in key order.
    pub columns: Vec<String>,
    /// The referenced table.
    pub references: TableName,
    /// The referenced columns, in key order.
    pub referenced_columns: Vec<String>,
    /// The key's name.
    pub name: Option<String>,
    /// The rule on update (0 cascade, 1 restrict, 2 set null, 3 no action, 4 set default).
    pub on_update: u8,
    /// The rule on delete (same codes).
    pub on_delete: u8,
}

/// The keys a server declares.
#[derive(Debug, Clone, Default)]
pub(crate) struct Keys {
    pub(crate) primary: Vec<PrimaryKey>,
    pub(crate) foreign: Vec<ForeignKey>,
}

/// The SQL name of an Arrow type, as servers put in `ARROW:FLIGHT:SQL:TYPE_NAME`.
fn sql_type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INTEGER".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::Float32 => "REAL".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "VARCHAR".into(),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Timestamp(_, None) => "TIMESTAMP".into(),
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP WITH TIME ZONE".into(),
        DataType::Decimal128(p, s) => format!("DECIMAL({p},{s})"),
        other => other.to_string(),
    }
}

/// A table's schema with the `ARROW:FLIGHT:SQL:*` metadata a server describes columns with;
/// key columns get remarks.
fn described(table: &TableName, schema: &Schema, keys: &Keys) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let mut meta = f.metadata().clone();
            meta.insert(
                "ARROW:FLIGHT:SQL:TYPE_NAME".into(),
                sql_type_name(f.data_type()),
            );
            let mut remarks = Vec::new();
            if keys
                .primary
                .iter()
                .any(|k| k.table == *table && k.columns.contains(f.name()))
            {
                remarks.push("primary key".to_owned());
            }
            for k in keys.foreign.iter().filter(|k| k.table == *table) {
                if let Some(i) = k.columns.iter().position(|c| c == f.name()) {
                    remarks.push(format!(
                        "references {}({})",
                        k.references.name, k.referenced_columns[i]
                    ));
                }
            }
            if !remarks.is_empty() {
                meta.insert("ARROW:FLIGHT:SQL:REMARKS".into(), remarks.join("; "));
            }
            f.as_ref().clone().with_metadata(meta)
        })
        .collect();
    Schema::new(fields)
}

/// Every table and view of every catalog and schema, with its type and schema.
async fn all_tables(
    ctx: &SessionContext,
    keys: &Keys,
) -> Result<Vec<(TableName, &'static str, Schema)>, Status> {
    let mut out = Vec::new();
    for catalog_name in ctx.catalog_names() {
        let Some(catalog) = ctx.catalog(&catalog_name) else {
            continue;
        };
        for schema_name in catalog.schema_names() {
            let Some(schema) = catalog.schema(&schema_name) else {
                continue;
            };
            for table_name in schema.table_names() {
                let Some(table) = schema
                    .table(&table_name)
                    .await
                    .map_err(|e| Status::internal(e.to_string()))?
                else {
                    continue;
                };
                let kind = match table.table_type() {
                    TableType::Base => "TABLE",
                    TableType::View => "VIEW",
                    TableType::Temporary => "LOCAL TEMPORARY",
                };
                let name = TableName::new(&catalog_name, &schema_name, &table_name);
                let schema = described(&name, &table.schema(), keys);
                out.push((name, kind, schema));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

/// `CommandGetCatalogs`.
pub(crate) fn catalogs(ctx: &SessionContext) -> Result<RecordBatch, Status> {
    let mut names = ctx.catalog_names();
    names.sort();
    let mut builder = GetCatalogsBuilder::new();
    for name in names {
        builder.append(name);
    }
    builder.build().map_err(internal)
}

/// `CommandGetDbSchemas`; with `needs_catalog`, nothing without a catalog filter.
pub(crate) fn schemas(
    ctx: &SessionContext,
    query: CommandGetDbSchemas,
    needs_catalog: bool,
) -> Result<RecordBatch, Status> {
    let listing = !needs_catalog || query.catalog.is_some();
    let mut builder = query.into_builder();
    if listing {
        let mut names = ctx.catalog_names();
        names.sort();
        for catalog_name in names {
            if let Some(catalog) = ctx.catalog(&catalog_name) {
                let mut schemas = catalog.schema_names();
                schemas.sort();
                for schema in schemas {
                    builder.append(&catalog_name, schema);
                }
            }
        }
    }
    builder.build().map_err(internal)
}

/// `CommandGetTables`; with `needs_catalog`, nothing without a catalog filter.
pub(crate) async fn tables(
    ctx: &SessionContext,
    keys: &Keys,
    query: CommandGetTables,
    needs_catalog: bool,
) -> Result<RecordBatch, Status> {
    let listing = !needs_catalog || query.catalog.is_some();
    let mut builder = query.into_builder();
    if listing {
        for (name, kind, schema) in all_tables(ctx, keys).await? {
            builder
                .append(&name.catalog, &name.schema, &name.name, kind, &schema)
                .map_err(internal)?;
        }
    }
    builder.build().map_err(internal)
}

/// `CommandGetTableTypes`.
pub(crate) fn table_types() -> Result<RecordBatch, Status> {
    let mut builder = CommandGetTableTypes {}.into_builder();
    for kind in ["LOCAL TEMPORARY", "TABLE", "VIEW"] {
        builder.append(kind);
    }
    builder.build().map_err(internal)
}

/// `CommandGetPrimaryKeys`: the declared key of one table.
pub(crate) fn primary_keys(
    keys: &Keys,
    catalog: Option<&String>,
    schema: Option<&String>,
    table: &str,
) -> Result<RecordBatch, Status> {
    let rows: Vec<(&PrimaryKey, usize)> = keys
        .primary
        .iter()
        .filter(|k| k.table.is(catalog, schema, table))
        .flat_map(|k| (0..k.columns.len()).map(move |i| (k, i)))
        .collect();
    let text = |f: &dyn Fn(&PrimaryKey, usize) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(
            rows.iter().map(|(k, i)| f(k, *i)).collect::<Vec<_>>(),
        ))
    };
    let schema = Schema::new(vec![
        Field::new("catalog_name", DataType::Utf8, true),
        Field::new("db_schema_name", DataType::Utf8, true),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("key_name", DataType::Utf8, true),
        Field::new("key_sequence", DataType::Int32, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            text(&|k, _| Some(k.table.catalog.clone())),
            text(&|k, _| Some(k.table.schema.clone())),
            text(&|k, _| Some(k.table.name.clone())),
            text(&|k, i| Some(k.columns[i].clone())),
            text(&|k, _| k.name.clone()),
            Arc::new(Int32Array::from(
                rows.iter()
                    .map(|(_, i)| i32::try_from(*i + 1).unwrap_or(i32::MAX))
                    .collect::<Vec<_>>(),
            )),
        ],
    )
    .map_err(internal)
}

/// The schema of `GetImportedKeys`, `GetExportedKeys` and `GetCrossReference` answers.
fn foreign_key_schema() -> SchemaRef {
    let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        text("pk_catalog_name", true),
        text("pk_db_schema_name", true),
        text("pk_table_name", false),
        text("pk_column_name", false),
        text("fk_catalog_name", true),
        text("fk_db_schema_name", true),
        text("fk_table_name", false),
        text("fk_column_name", false),
        Field::new("key_sequence", DataType::Int32, false),
        text("fk_key_name", true),
        text("pk_key_name", true),
        Field::new("update_rule", DataType::UInt8, false),
        Field::new("delete_rule", DataType::UInt8, false),
    ]))
}

/// The rows of the declared foreign keys `select` keeps, one per column pair.
pub(crate) fn foreign_keys(
    keys: &Keys,
    select: impl Fn(&ForeignKey) -> bool,
) -> Result<RecordBatch, Status> {
    let mut selected: Vec<&ForeignKey> = keys.foreign.iter().filter(|k| select(k)).collect();
    selected.sort_by(|a, b| (&a.references, &a.table).cmp(&(&b.references, &b.table)));
    let rows: Vec<(&ForeignKey, usize)> = selected
        .into_iter()
        .flat_map(|k| (0..k.columns.len()).map(move |i| (k, i)))
        .collect();
    let pk_name = |k: &ForeignKey| {
        keys.primary
            .iter()
            .find(|p| p.table == k.references)
            .and_then(|p| p.name.clone())
    };
    let text = |f: &dyn Fn(&ForeignKey, usize) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(
            rows.iter().map(|(k, i)| f(k, *i)).collect::<Vec<_>>(),
        ))
    };
    let rule = |f: &dyn Fn(&ForeignKey) -> u8| -> ArrayRef {
        Arc::new(UInt8Array::from(
            rows.iter().map(|(k, _)| f(k)).collect::<Vec<_>>(),
        ))
    };
    RecordBatch::try_new(
        foreign_key_schema(),
        vec![
            text(&|k, _| Some(k.references.catalog.clone())),
            text(&|k, _| Some(k.references.schema.clone())),
            text(&|k, _| Some(k.references.name.clone())),
            text(&|k, i| Some(k.referenced_columns[i].clone())),
            text(&|k, _| Some(k.table.catalog.clone())),
            text(&|k, _| Some(k.table.schema.clone())),
            text(&|k, _| Some(k.table.name.clone())),
            text(&|k, i| Some(k.columns[i].clone())),
            Arc::new(Int32Array::from(
                rows.iter()
                    .map(|(_, i)| i32::try_from(*i + 1).unwrap_or(i32::MAX))
                    .collect::<Vec<_>>(),
            )),
            text(&|k, _| k.name.clone()),
            text(&|k, _| pk_name(k)),
            rule(&|k| k.on_update),
            rule(&|k| k.on_delete),
        ],
    )
    .map_err(internal)
}

/// The SQL types the server describes in `GetXdbcTypeInfo`.
pub(crate) fn xdbc_types() -> Result<XdbcTypeInfoData, Status> {
    let mut builder = XdbcTypeInfoDataBuilder::new();
    let types = [
        ("BOOLEAN", XdbcDataType::XdbcBit, None, None),
        ("TINYINT", XdbcDataType::XdbcTinyint, Some(3), Some(10)),
        ("SMALLINT", XdbcDataType::XdbcSmallint, Some(5), Some(10)),
        ("INTEGER", XdbcDataType::XdbcInteger, Some(10), Some(10)),
        ("BIGINT", XdbcDataType::XdbcBigint, Some(19), Some(10)),
        ("REAL", XdbcDataType::XdbcFloat, Some(24), Some(2)),
        ("DOUBLE", XdbcDataType::XdbcDouble, Some(53), Some(2)),
        ("DECIMAL", XdbcDataType::XdbcDecimal, Some(38), Some(10)),
        ("VARCHAR", XdbcDataType::XdbcVarchar, None, None),
        ("DATE", XdbcDataType::XdbcDate, Some(10), None),
        ("TIMESTAMP", XdbcDataType::XdbcTimestamp, Some(29), None),
    ];
    for (name, data_type, size, radix) in types {
        let text = data_type == XdbcDataType::XdbcVarchar;
        builder.append(XdbcTypeInfo {
            type_name: name.to_owned(),
            data_type,
            column_size: size,
            literal_prefix: text.then(|| "'".to_owned()),
            literal_suffix: text.then(|| "'".to_owned()),
            create_params: (data_type == XdbcDataType::XdbcDecimal)
                .then(|| vec!["precision".to_owned(), "scale".to_owned()]),
            nullable: Nullable::NullabilityNullable,
            case_sensitive: text,
            searchable: Searchable::Full,
            unsigned_attribute: radix.map(|_| false),
            fixed_prec_scale: data_type == XdbcDataType::XdbcDecimal,
            auto_increment: Some(false),
            local_type_name: Some(name.to_owned()),
            minimum_scale: None,
            maximum_scale: None,
            sql_data_type: data_type,
            datetime_subcode: None,
            num_prec_radix: radix,
            interval_precision: None,
        });
    }
    builder.build().map_err(internal)
}

/// A `GetSqlInfo` answer whose union lists its members in reverse order, with type ids of
/// its own (as some servers send them): clients must decode by member name.
pub(crate) fn shuffle_union(batch: &RecordBatch) -> Result<RecordBatch, Status> {
    let Some(values) = batch.column_by_name("value") else {
        return Ok(batch.clone());
    };
    let DataType::Union(fields, _) = values.data_type() else {
        return Ok(batch.clone());
    };
    let union = values
        .as_any()
        .downcast_ref::<UnionArray>()
        .ok_or_else(|| internal("the SqlInfo value column is not a union"))?;
    // Old type id t becomes 10 + (n - 1 - position of t); members listed in reverse.
    let old: Vec<(i8, Arc<Field>)> = fields.iter().map(|(t, f)| (t, Arc::clone(f))).collect();
    let n = old.len();
    let new_id = |t: i8| -> i8 {
        let position = old.iter().position(|(o, _)| *o == t).unwrap_or(0);
        10 + i8::try_from(n - 1 - position).unwrap_or(0)
    };
    let reversed: Vec<(i8, Arc<Field>)> = old
        .iter()
        .rev()
        .map(|(t, f)| (new_id(*t), Arc::clone(f)))
        .collect();
    let new_fields = UnionFields::try_new(
        reversed.iter().map(|(t, _)| *t),
        reversed.iter().map(|(_, f)| f.as_ref().clone()),
    )
    .map_err(internal)?;
    let children: Vec<ArrayRef> = reversed
        .iter()
        .map(|(t, _)| {
            let original = old[n - 1 - usize::try_from(*t - 10).unwrap_or(0)].0;
            Arc::clone(union.child(original))
        })
        .collect();
    let type_ids: Vec<i8> = (0..union.len()).map(|i| new_id(union.type_id(i))).collect();
    let offsets: Vec<i32> = (0..union.len())
        .map(|i| i32::try_from(union.value_offset(i)).unwrap_or(0))
        .collect();
    let shuffled = UnionArray::try_new(
        new_fields,
        ScalarBuffer::from(type_ids),
        Some(ScalarBuffer::from(offsets)),
        children,
    )
    .map_err(internal)?;
    let mut columns = batch.columns().to_vec();
    let index = batch.schema().index_of("value").map_err(internal)?;
    columns[index] = Arc::new(shuffled);
    let schema = Schema::new(
        batch
            .schema()
            .fields()
            .iter()
            .map(|f| {
                if f.name() == "value" {
                    Field::new("value", columns[index].data_type().clone(), f.is_nullable())
                } else {
                    f.as_ref().clone()
                }
            })
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), columns).map_err(internal)
}

/// `SessionOptionValue` of `Flight.proto`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct OptionValue {
    #[prost(oneof = "Value", tags = "1, 2, 3, 4, 5")]
    pub(crate) value: Option<Value>,
}

/// The value of a session option.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum Value {
    #[prost(string, tag = "1")]
    String(String),
    #[prost(bool, tag = "2")]
    Bool(bool),
    #[prost(sfixed64, tag = "3")]
    Int64(i64),
    #[prost(double, tag = "4")]
    Double(f64),
    #[prost(message, tag = "5")]
    StringList(StringList),
}

/// A list of strings.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct StringList {
    #[prost(string, repeated, tag = "1")]
    pub(crate) values: Vec<String>,
}

/// `SetSessionOptionsRequest` and `GetSessionOptionsResult`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct SessionOptions {
    #[prost(map = "string, message", tag = "1")]
    pub(crate) options: HashMap<String, OptionValue>,
}

/// `SetSessionOptionsResult`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct SetResult {
    #[prost(map = "string, message", tag = "1")]
    pub(crate) errors: HashMap<String, SetError>,
}

/// `SetSessionOptionsResult.Error`: 1 invalid name, 2 invalid value, 3 cannot be set.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct SetError {
    #[prost(int32, tag = "1")]
    pub(crate) value: i32,
}

/// `CloseSessionResult`: 1 closed.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct CloseResult {
    #[prost(int32, tag = "1")]
    pub(crate) status: i32,
}

/// The cookie that names a session.
pub(crate) const SESSION_COOKIE: &str = "arrow_flight_session_id";

/// Sessions by id: their options.
pub(crate) type Sessions = HashMap<String, BTreeMap<String, OptionValue>>;

/// Checks a session option: `catalog` and `schema` must name what exists (the schema in the
/// session's catalog, or the default one).
pub(crate) fn check_option(
    ctx: &SessionContext,
    options: &BTreeMap<String, OptionValue>,
    name: &str,
    value: &OptionValue,
) -> Option<i32> {
    let text = match &value.value {
        Some(Value::String(s)) => Some(s.as_str()),
        None => return None,
        _ => None,
    };
    match name {
        "catalog" => match text {
            Some(c) if ctx.catalog(c).is_some() => None,
            _ => Some(2),
        },
        "schema" => {
            let catalog = match options.get("catalog").map(|v| &v.value) {
                Some(Some(Value::String(c))) => c.clone(),
                _ => ctx
                    .state()
                    .config()
                    .options()
                    .catalog
                    .default_catalog
                    .clone(),
            };
            match text {
                Some(s) if ctx.catalog(&catalog).and_then(|c| c.schema(s)).is_some() => None,
                _ => Some(2),
            }
        }
        _ => None,
    }
}

/// The catalog and schema a session resolves unqualified names in.
pub(crate) fn session_namespace(options: &BTreeMap<String, OptionValue>) -> (String, String) {
    let text = |name: &str| match options.get(name).map(|v| &v.value) {
        Some(Some(Value::String(s))) => s.clone(),
        _ => String::new(),
    };
    (text("catalog"), text("schema"))
}

/// Creates the demo's metadata objects: schema `shop` (customers, orders, order items, a
/// view of big orders) with declared keys, and catalog `archive` with schema `y2025`.
pub(crate) async fn create_demo_objects(ctx: &SessionContext) -> Result<Keys, Status> {
    let statements = [
        "CREATE SCHEMA shop",
        "CREATE TABLE shop.customers (id BIGINT NOT NULL, name VARCHAR NOT NULL, email VARCHAR)",
        "INSERT INTO shop.customers VALUES (1, 'Ada', 'ada@example.org'), (2, 'Grace', NULL), \
         (3, 'Émilie', 'emilie@example.org')",
        "CREATE TABLE shop.orders (id BIGINT NOT NULL, customer_id BIGINT NOT NULL, \
         amount DECIMAL(10, 2) NOT NULL, placed_at TIMESTAMP)",
        "INSERT INTO shop.orders VALUES (10, 1, 25.50, '2026-01-02T10:00:00'), \
         (11, 1, 180.00, '2026-01-03T11:30:00'), (12, 3, 99.99, NULL)",
        "CREATE TABLE shop.order_items (order_id BIGINT NOT NULL, line INT NOT NULL, \
         product VARCHAR NOT NULL, quantity INT NOT NULL)",
        "INSERT INTO shop.order_items VALUES (10, 1, 'tea', 2), (10, 2, 'cups', 4), \
         (11, 1, 'teapot', 1), (12, 1, 'tea', 9)",
        "CREATE VIEW shop.big_orders AS SELECT id, customer_id, amount FROM shop.orders \
         WHERE amount > 100",
        "CREATE DATABASE archive",
        "CREATE SCHEMA archive.y2025",
        "CREATE TABLE archive.y2025.readings AS SELECT * FROM datafusion.public.readings \
         WHERE sensor = 's1'",
    ];
    for sql in statements {
        ctx.sql(sql)
            .await
            .map_err(|e| internal(format!("{sql}: {e}")))?
            .collect()
            .await
            .map_err(|e| internal(format!("{sql}: {e}")))?;
    }
    let shop = |name: &str| TableName::new("datafusion", "shop", name);
    let columns = |names: &[&str]| names.iter().map(|c| (*c).to_owned()).collect();
    Ok(Keys {
        primary: vec![
            PrimaryKey {
                table: shop("customers"),
                columns: columns(&["id"]),
                name: Some("customers_pk".into()),
            },
            PrimaryKey {
                table: shop("orders"),
                columns: columns(&["id"]),
                name: Some("orders_pk".into()),
            },
            PrimaryKey {
                table: shop("order_items"),
                columns: columns(&["order_id", "line"]),
                name: Some("order_items_pk".into()),
            },
        ],
        foreign: vec![
            ForeignKey {
                table: shop("orders"),
                columns: columns(&["customer_id"]),
                references: shop("customers"),
                referenced_columns: columns(&["id"]),
                name: Some("orders_customer_fk".into()),
                on_update: 3,
                on_delete: 1,
            },
            ForeignKey {
                table: shop("order_items"),
                columns: columns(&["order_id"]),
                references: shop("orders"),
                referenced_columns: columns(&["id"]),
                name: Some("order_items_order_fk".into()),
                on_update: 3,
                on_delete: 0,
            },
        ],
    })
}

/// The server's `SqlInfo`: one item of each value type the union has.
pub(crate) fn sql_info(
    name: Option<&str>,
    transactions: bool,
    cancel: bool,
) -> Result<SqlInfoData, Status> {
    let mut builder = SqlInfoDataBuilder::new();
    builder.append(
        SqlInfo::FlightSqlServerName,
        name.unwrap_or("dbapi-flightsql-server"),
    );
    builder.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    builder.append(SqlInfo::FlightSqlServerArrowVersion, "59");
    builder.append(SqlInfo::FlightSqlServerReadOnly, false);
    builder.append(SqlInfo::FlightSqlServerSql, true);
    builder.append(SqlInfo::FlightSqlServerSubstrait, false);
    builder.append(SqlInfo::FlightSqlServerCancel, cancel);
    let transactions = if transactions {
        SqlSupportedTransaction::Savepoint
    } else {
        SqlSupportedTransaction::None
    };
    builder.append(SqlInfo::FlightSqlServerTransaction, transactions as i32);
    builder.append(SqlInfo::FlightSqlServerStatementTimeout, 0_i32);
    builder.append(SqlInfo::SqlDdlCatalog, true);
    builder.append(SqlInfo::SqlDdlSchema, true);
    builder.append(SqlInfo::SqlDdlTable, true);
    // Unquoted identifiers are folded to lower case.
    builder.append(
        SqlInfo::SqlIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityLowercase as i32,
    );
    builder.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    builder.append(
        SqlInfo::SqlQuotedIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityCaseInsensitive as i32,
    );
    builder.append(SqlInfo::SqlAllTablesAreSelectable, true);
    builder.append(
        SqlInfo::SqlKeywords,
        &["ANTI", "ASOF", "EXPLAIN", "QUALIFY", "SEMI", "UNNEST"][..],
    );
    builder.append(
        SqlInfo::SqlNumericFunctions,
        &["abs", "ceil", "floor", "round", "sqrt"][..],
    );
    builder.append(
        SqlInfo::SqlStringFunctions,
        &["concat", "lower", "substr", "upper"][..],
    );
    builder.append(SqlInfo::SqlSearchStringEscape, "\\");
    builder.append(SqlInfo::SqlMaxColumnNameLength, 0_i64);
    // Conversions the engine supports: from each XDBC type to the others listed.
    let bigint = SqlSupportsConvert::SqlConvertBigint as i32;
    let integer = SqlSupportsConvert::SqlConvertInteger as i32;
    let varchar = SqlSupportsConvert::SqlConvertVarchar as i32;
    builder.append(
        SqlInfo::SqlSupportsConvert,
        BTreeMap::from([
            (integer, vec![bigint, varchar]),
            (bigint, vec![integer, varchar]),
        ]),
    );
    builder.build().map_err(internal)
}

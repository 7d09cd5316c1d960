//! Database metadata: catalogs, schemas, tables, columns, keys and what the server supports.
//!
//! The typed results here come from the [`Connection`](crate::Connection) metadata methods
//! ([`catalogs`](crate::Connection::catalogs), [`tables`](crate::Connection::tables),
//! [`primary_keys`](crate::Connection::primary_keys), [`server_info`](crate::Connection::server_info),
//! ...); [`Connection::metadata`](crate::Connection::metadata) gives the same as Arrow data
//! through a cursor, read lazily, for tools that page through huge catalogs.
//!
//! Name filters are SQL `LIKE` patterns: `%` matches any run of characters, `_` any one
//! character. Methods that take an exact name ([`TableRef`]) escape the wildcards themselves,
//! so a table called `my_table` never matches `myXtable`.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, UInt32Type};
use arrow::record_batch::RecordBatch;

use crate::{Error, Result, Value};

/// Which tables (and columns) to list. Every filter is optional; an empty filter lists every
/// table of every catalog and schema.
///
/// ```
/// use dbapi::metadata::TableFilter;
///
/// let filter = TableFilter::new().schema("public").table("read%").columns("%");
/// assert_eq!(filter.table_pattern.as_deref(), Some("read%"));
/// assert!(filter.with_columns);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableFilter {
    /// The catalog, by exact name (`None`: every catalog; `Some("")`: tables without one).
    pub catalog: Option<String>,
    /// A `LIKE` pattern on schema names.
    pub schema_pattern: Option<String>,
    /// A `LIKE` pattern on table names.
    pub table_pattern: Option<String>,
    /// Table types to list (e.g. `TABLE`, `VIEW`); empty: every type.
    pub table_types: Vec<String>,
    /// Whether to describe each table's columns ([`TableInfo::columns`]).
    pub with_columns: bool,
    /// A `LIKE` pattern on column names (implies [`with_columns`](TableFilter::with_columns)).
    pub column_pattern: Option<String>,
}

impl TableFilter {
    /// A filter that lists everything.
    pub fn new() -> TableFilter {
        TableFilter::default()
    }

    /// Only the tables of this catalog (an exact name).
    #[must_use]
    pub fn catalog(mut self, catalog: impl Into<String>) -> TableFilter {
        self.catalog = Some(catalog.into());
        self
    }

    /// Only the tables of schemas matching this `LIKE` pattern.
    #[must_use]
    pub fn schema(mut self, pattern: impl Into<String>) -> TableFilter {
        self.schema_pattern = Some(pattern.into());
        self
    }

    /// Only tables whose name matches this `LIKE` pattern.
    #[must_use]
    pub fn table(mut self, pattern: impl Into<String>) -> TableFilter {
        self.table_pattern = Some(pattern.into());
        self
    }

    /// Only tables of these types (e.g. `["TABLE", "VIEW"]`).
    #[must_use]
    pub fn table_types<S: Into<String>>(
        mut self,
        types: impl IntoIterator<Item = S>,
    ) -> TableFilter {
        self.table_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// Describes each table's columns, all of them.
    #[must_use]
    pub fn with_columns(mut self) -> TableFilter {
        self.with_columns = true;
        self
    }

    /// Describes each table's columns whose name matches this `LIKE` pattern.
    #[must_use]
    pub fn columns(mut self, pattern: impl Into<String>) -> TableFilter {
        self.with_columns = true;
        self.column_pattern = Some(pattern.into());
        self
    }
}

/// One table by exact name, optionally qualified by its schema and catalog.
///
/// ```
/// use dbapi::metadata::TableRef;
///
/// let t = TableRef::new("orders").in_schema("shop").in_catalog("main");
/// assert_eq!(t.to_string(), "main.shop.orders");
/// assert_eq!(TableRef::from("orders").to_string(), "orders");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TableRef {
    /// The catalog (`None`: any).
    pub catalog: Option<String>,
    /// The schema (`None`: any).
    pub schema: Option<String>,
    /// The table's name.
    pub name: String,
}

impl TableRef {
    /// A table by name, in any schema and catalog.
    pub fn new(name: impl Into<String>) -> TableRef {
        TableRef {
            catalog: None,
            schema: None,
            name: name.into(),
        }
    }

    /// The same table in schema `schema`.
    #[must_use]
    pub fn in_schema(mut self, schema: impl Into<String>) -> TableRef {
        self.schema = Some(schema.into());
        self
    }

    /// The same table in catalog `catalog`.
    #[must_use]
    pub fn in_catalog(mut self, catalog: impl Into<String>) -> TableRef {
        self.catalog = Some(catalog.into());
        self
    }
}

impl From<&str> for TableRef {
    fn from(name: &str) -> TableRef {
        TableRef::new(name)
    }
}

impl From<&TableInfo> for TableRef {
    fn from(table: &TableInfo) -> TableRef {
        TableRef {
            catalog: table.catalog.clone(),
            schema: table.schema.clone(),
            name: table.name.clone(),
        }
    }
}

impl std::fmt::Display for TableRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for part in [&self.catalog, &self.schema].into_iter().flatten() {
            write!(f, "{part}.")?;
        }
        f.write_str(&self.name)
    }
}

/// A schema (a namespace of tables) and its catalog.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaInfo {
    /// The catalog, if the server has catalogs.
    pub catalog: Option<String>,
    /// The schema's name.
    pub name: String,
}

/// A table or view.
#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    /// The catalog, if the server has catalogs.
    pub catalog: Option<String>,
    /// The schema, if the server has schemas.
    pub schema: Option<String>,
    /// The table's name.
    pub name: String,
    /// Its type as the server names it (`TABLE`, `VIEW`, `SYSTEM TABLE`, ...).
    pub table_type: String,
    /// Its columns in order, when asked for ([`TableFilter::with_columns`]); only those
    /// matching [`TableFilter::column_pattern`].
    pub columns: Vec<ColumnInfo>,
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    /// The column's name.
    pub name: String,
    /// Its Arrow type.
    pub data_type: DataType,
    /// Whether it may hold NULLs.
    pub nullable: bool,
    /// Its position in the table, from 1.
    pub ordinal: usize,
    /// The server's description of it, if any.
    pub remarks: Option<String>,
    /// Its SQL type name, where the server says (e.g. `BIGINT`, `VARCHAR`).
    pub type_name: Option<String>,
}

/// One column of a table's primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyColumn {
    /// The table.
    pub table: TableRef,
    /// The column.
    pub column: String,
    /// Its position in the key, from 1.
    pub key_sequence: i32,
    /// The key's name, if it has one.
    pub key_name: Option<String>,
}

/// What a foreign key does when the referenced row is updated or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferentialAction {
    /// `CASCADE`.
    Cascade,
    /// `RESTRICT`.
    Restrict,
    /// `SET NULL`.
    SetNull,
    /// `NO ACTION`.
    NoAction,
    /// `SET DEFAULT`.
    SetDefault,
    /// A code this API does not know.
    Other(u8),
}

impl ReferentialAction {
    /// The action for a JDBC/ODBC/Flight SQL rule code (0 cascade, 1 restrict, 2 set null,
    /// 3 no action, 4 set default).
    pub fn from_code(code: u8) -> ReferentialAction {
        match code {
            0 => ReferentialAction::Cascade,
            1 => ReferentialAction::Restrict,
            2 => ReferentialAction::SetNull,
            3 => ReferentialAction::NoAction,
            4 => ReferentialAction::SetDefault,
            other => ReferentialAction::Other(other),
        }
    }
}

/// One column pair of a foreign key: `foreign_table.foreign_column` references
/// `primary_table.primary_column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The referenced table (the one with the primary key).
    pub primary_table: TableRef,
    /// The referenced column.
    pub primary_column: String,
    /// The referencing table (the one with the foreign key).
    pub foreign_table: TableRef,
    /// The referencing column.
    pub foreign_column: String,
    /// The position of this pair in the key, from 1.
    pub key_sequence: i32,
    /// The foreign key's name, if it has one.
    pub foreign_key_name: Option<String>,
    /// The referenced primary key's name, if it has one.
    pub primary_key_name: Option<String>,
    /// What happens on update of the referenced row.
    pub update_rule: ReferentialAction,
    /// What happens on delete of the referenced row.
    pub delete_rule: ReferentialAction,
}

/// One metadata question, whose answer [`Connection::metadata`](crate::Connection::metadata)
/// gives as Arrow data through a cursor. The result schemas are listed in `docs/metadata.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataRequest {
    /// Every catalog: `catalog_name`.
    Catalogs,
    /// Schemas: `catalog_name`, `db_schema_name`.
    Schemas {
        /// The catalog (exact name), or every catalog.
        catalog: Option<String>,
        /// A `LIKE` pattern on schema names.
        schema_pattern: Option<String>,
    },
    /// Tables: `catalog_name`, `db_schema_name`, `table_name`, `table_type`, and with
    /// [`TableFilter::with_columns`] the IPC-encoded Arrow schema `table_schema`.
    /// (The column pattern is not applied to Arrow results.)
    Tables(TableFilter),
    /// Every table type: `table_type`.
    TableTypes,
    /// The primary key of one table.
    PrimaryKeys(TableRef),
    /// The foreign keys of one table (the keys it imports).
    ImportedKeys(TableRef),
    /// The foreign keys that reference one table (the keys it exports).
    ExportedKeys(TableRef),
    /// The foreign keys of `foreign` that reference `primary`.
    CrossReference {
        /// The referenced table.
        primary: TableRef,
        /// The referencing table.
        foreign: TableRef,
    },
    /// Server information by id (every item when empty): `info_name`, `value` (a union).
    ServerInfo(Vec<u32>),
    /// The SQL types the server supports (one, by its XDBC data type code, or all).
    TypeInfo(Option<i32>),
}

impl MetadataRequest {
    /// A short name for messages (`"tables"`, `"primary keys"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            MetadataRequest::Catalogs => "catalogs",
            MetadataRequest::Schemas { .. } => "schemas",
            MetadataRequest::Tables(_) => "tables",
            MetadataRequest::TableTypes => "table types",
            MetadataRequest::PrimaryKeys(_) => "primary keys",
            MetadataRequest::ImportedKeys(_) => "imported keys",
            MetadataRequest::ExportedKeys(_) => "exported keys",
            MetadataRequest::CrossReference { .. } => "cross reference",
            MetadataRequest::ServerInfo(_) => "server info",
            MetadataRequest::TypeInfo(_) => "type info",
        }
    }
}

/// One item of server information, typed as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoValue {
    /// A string.
    String(String),
    /// A flag.
    Bool(bool),
    /// A 64-bit integer.
    Int64(i64),
    /// A 32-bit bitmask (or enumeration code).
    Int32Bitmask(i32),
    /// A list of strings.
    StringList(Vec<String>),
    /// A map from 32-bit integers to lists of them.
    Int32ToInt32List(BTreeMap<i32, Vec<i32>>),
}

impl InfoValue {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            InfoValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The flag, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            InfoValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is one (a bitmask counts).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            InfoValue::Int64(v) => Some(*v),
            InfoValue::Int32Bitmask(v) => Some(i64::from(*v)),
            _ => None,
        }
    }
}

/// How a server treats the case of identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierCase {
    /// Unknown.
    Unknown,
    /// Case-insensitive.
    CaseInsensitive,
    /// Folded to upper case.
    Uppercase,
    /// Folded to lower case.
    Lowercase,
}

/// What a server says about itself. Every field is `None` (or empty) when the server did not
/// say, e.g. a server that does not answer metadata questions about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerInfo {
    /// The server's name.
    pub name: Option<String>,
    /// The server's version.
    pub version: Option<String>,
    /// The Arrow version of the server.
    pub arrow_version: Option<String>,
    /// Whether the server refuses changes.
    pub read_only: Option<bool>,
    /// Whether the server has transactions.
    pub transactions: Option<bool>,
    /// Whether the server has savepoints.
    pub savepoints: Option<bool>,
    /// Whether the server can cancel queries.
    pub cancel: Option<bool>,
    /// Whether the server runs Substrait plans.
    pub substrait: Option<bool>,
    /// The string that quotes identifiers (e.g. `"`).
    pub identifier_quote: Option<String>,
    /// How unquoted identifiers are treated.
    pub identifier_case: Option<IdentifierCase>,
    /// How quoted identifiers are treated.
    pub quoted_identifier_case: Option<IdentifierCase>,
    /// The string that escapes `%` and `_` in `LIKE` patterns (e.g. `\`).
    pub search_string_escape: Option<String>,
    /// SQL keywords beyond SQL-92.
    pub keywords: Vec<String>,
    /// Every item the server sent, by the driver's id (for Flight SQL, the `SqlInfo` number).
    pub raw: BTreeMap<u32, InfoValue>,
}

/// One information value: the union member named `name`, or, for a name neither
/// specification gives, the member's type.
fn info_value(name: &str, value: Value) -> Result<InfoValue> {
    let strings = |items: Vec<Value>| -> Option<Vec<String>> {
        items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect()
    };
    let int32 = |v: &Value| match v {
        Value::Int32(i) => Some(*i),
        _ => None,
    };
    let decoded = match (name, value) {
        ("string_value", Value::String(s)) => Some(InfoValue::String(s)),
        ("bool_value", Value::Bool(b)) => Some(InfoValue::Bool(b)),
        ("bigint_value", Value::Int64(i)) => Some(InfoValue::Int64(i)),
        ("int32_bitmask", Value::Int32(i)) => Some(InfoValue::Int32Bitmask(i)),
        ("string_list", Value::List(items)) => strings(items).map(InfoValue::StringList),
        ("int32_to_int32_list_map", Value::Map(entries)) => entries
            .into_iter()
            .map(|(k, v)| {
                let key = int32(&k)?;
                let Value::List(items) = v else {
                    return (v.is_null()).then(|| (key, Vec::new()));
                };
                let items: Option<Vec<i32>> = items.iter().map(int32).collect();
                items.map(|items| (key, items))
            })
            .collect::<Option<BTreeMap<i32, Vec<i32>>>>()
            .map(InfoValue::Int32ToInt32List),
        // A member the specification does not name: go by its type.
        (_, Value::String(s)) => Some(InfoValue::String(s)),
        (_, Value::Bool(b)) => Some(InfoValue::Bool(b)),
        (_, Value::Int64(i)) => Some(InfoValue::Int64(i)),
        (_, Value::Int32(i)) => Some(InfoValue::Int32Bitmask(i)),
        (_, Value::List(items)) => strings(items).map(InfoValue::StringList),
        _ => None,
    };
    decoded.ok_or_else(|| {
        Error::internal(format!(
            "server info: the union member {name:?} holds a value of an unexpected type"
        ))
    })
}

/// Decodes server information as Flight SQL's `GetSqlInfo` and ADBC's `GetInfo` give it: an
/// id column (`info_name`, uint32) and a value column (`value` or `info_value`, a dense union
/// whose members are told apart by name: `string_value`, `bool_value`, `bigint_value` or
/// `int64_value`, `int32_bitmask`, `string_list`, `int32_to_int32_list_map`).
///
/// # Errors
/// An [`ErrorKind::Internal`](crate::ErrorKind::Internal) error naming what is malformed: a
/// missing column, ids that are not uint32, a value column that is not a union, a member
/// holding a value of another type.
pub fn decode_info(batches: &[RecordBatch]) -> Result<BTreeMap<u32, InfoValue>> {
    let mut out = BTreeMap::new();
    for batch in batches {
        if batch.num_columns() < 2 {
            return Err(Error::internal(format!(
                "server info: {} column(s), expected an id and a value",
                batch.num_columns()
            )));
        }
        let ids = batch
            .column(0)
            .as_primitive_opt::<UInt32Type>()
            .ok_or_else(|| {
                Error::internal(format!(
                    "server info: the id column is a {}, not a uint32",
                    batch.column(0).data_type()
                ))
            })?;
        let values = batch.column(1);
        let DataType::Union(fields, _) = values.data_type() else {
            return Err(Error::internal(format!(
                "server info: the value column is a {}, not a union",
                values.data_type()
            )));
        };
        let union = values.as_union();
        for (row, id) in ids.iter().enumerate() {
            let Some(id) = id else {
                return Err(Error::internal("server info: an id is NULL"));
            };
            let type_id = union.type_id(row);
            let name = fields
                .iter()
                .find(|(t, _)| *t == type_id)
                .map(|(_, f)| f.name().as_str())
                .ok_or_else(|| {
                    Error::internal(format!("server info: unknown union type id {type_id}"))
                })?;
            let child = union.child(type_id);
            let value = Value::from_arrow(child.as_ref(), union.value_offset(row))?;
            out.insert(id, info_value(name, value)?);
        }
    }
    Ok(out)
}

/// Escapes the `LIKE` wildcards `%` and `_` (and the escape itself) in an exact name, so that
/// the name used as a pattern matches only itself.
///
/// ```
/// assert_eq!(dbapi::metadata::escape_like("my_table", "\\"), "my\\_table");
/// assert_eq!(dbapi::metadata::escape_like("100%", "\\"), "100\\%");
/// ```
pub fn escape_like(name: &str, escape: &str) -> String {
    if escape.is_empty() {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len() + 4);
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with(escape) {
            out.push_str(escape);
            out.push_str(escape);
            rest = &rest[escape.len()..];
            continue;
        }
        if c == '%' || c == '_' {
            out.push_str(escape);
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Whether `text` matches the SQL `LIKE` pattern `pattern` (`%`: any run of characters, `_`:
/// one character; `escape`, if any, makes the next character literal). Case-sensitive.
///
/// ```
/// use dbapi::metadata::like;
///
/// assert!(like("my_table", "my_table", None));
/// assert!(like("myXtable", "my_table", None));
/// assert!(!like("myXtable", "my\\_table", Some('\\')));
/// assert!(like("readings", "read%", None));
/// ```
pub fn like(text: &str, pattern: &str, escape: Option<char>) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Token {
        Any,
        One,
        Char(char),
    }
    let mut tokens = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            c if Some(c) == escape => Token::Char(chars.next().unwrap_or(c)),
            '%' => Token::Any,
            '_' => Token::One,
            c => Token::Char(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // Greedy matching with backtracking to the last `%` (linear in practice).
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Token::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Token::One) => {
                t += 1;
                p += 1;
            }
            Some(Token::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|t| *t == Token::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_unknown_members() {
        let map = Value::Map(vec![(
            Value::Int32(1),
            Value::List(vec![Value::Int32(2), Value::Int32(3)]),
        )]);
        assert_eq!(
            info_value("int32_to_int32_list_map", map).unwrap(),
            InfoValue::Int32ToInt32List(BTreeMap::from([(1, vec![2, 3])]))
        );
        assert_eq!(
            info_value("vendor_extension", Value::Int64(5)).unwrap(),
            InfoValue::Int64(5)
        );
        let err = info_value("bool_value", Value::Float64(1.0)).unwrap_err();
        assert!(err.to_string().contains("bool_value"), "{err}");
    }

    #[test]
    fn like_patterns() {
        let cases = [
            ("abc", "abc", true),
            ("abc", "a%", true),
            ("abc", "%c", true),
            ("abc", "%b%", true),
            ("abc", "a_c", true),
            ("abc", "a_", false),
            ("abc", "", false),
            ("", "", true),
            ("", "%", true),
            ("abc", "%%%", true),
            ("aXbXc", "a%b%c", true),
            ("aXbXd", "a%b%c", false),
            ("mississippi", "%iss%ppi", true),
            ("ünï", "_n_", true),
            ("ABC", "abc", false),
        ];
        for (text, pattern, expected) in cases {
            assert_eq!(
                like(text, pattern, None),
                expected,
                "{text:?} LIKE {pattern:?}"
            );
        }
    }

    #[test]
    fn escaped_patterns_match_only_the_name() {
        for name in ["my_table", "100%", "a\\b", "plain", "_%\\", "ü_ß"] {
            let pattern = escape_like(name, "\\");
            assert!(like(name, &pattern, Some('\\')), "{name:?} vs {pattern:?}");
        }
        let pattern = escape_like("my_table", "\\");
        assert!(!like("myXtable", &pattern, Some('\\')));
        assert!(!like("my_tables", &pattern, Some('\\')));
        assert_eq!(escape_like("a_b", ""), "a_b");
    }

    #[test]
    fn referential_actions() {
        assert_eq!(ReferentialAction::from_code(0), ReferentialAction::Cascade);
        assert_eq!(ReferentialAction::from_code(3), ReferentialAction::NoAction);
        assert_eq!(ReferentialAction::from_code(9), ReferentialAction::Other(9));
    }
}

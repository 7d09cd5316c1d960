//! Meta-commands in the psql habit: `\l`, `\dn`, `\dt`, `\d`, `\x`, `\format`, `\timing`, `\pset`,
//! `\o`, `\i`, `\set`, `\unset`, `\c`, `\watch`, `\errverbose`, `\h`, `\refresh`, `\conninfo`, `\?`, `\q`. Their answers are written like query results.

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::record_batch::RecordBatch;
use dbapi::metadata::{TableFilter, TableRef};

/// The help of `\?`.
pub const HELP: &str = "\
\\l               list catalogs
\\dn [PATTERN]    list schemas (LIKE pattern)
\\dt [PATTERN]    list tables and views ([SCHEMA.]TABLE, LIKE patterns)
\\d NAME          describe a table: columns and keys ([CATALOG.][SCHEMA.]TABLE)
\\x               toggle expanded display
\\format FORMAT   table, csv, json, ndjson, arrow or parquet
\\timing          toggle printing how long each statement took
\\pset pager [on|off]  tall tables through $DBAPI_PAGER, $PAGER or less -SRFX (toggle)
\\o [FILE]        write results to FILE (no FILE: back to standard output)
\\i FILE          run the statements of FILE
\\copy TABLE FROM FILE [(FORMAT F)]     load a CSV, Parquet or Arrow IPC file into TABLE
\\copy (QUERY) TO FILE [(FORMAT F)]     write a query's result (or TABLE) to FILE
\\set [NAME [VALUE]]  set a variable (none: list them); SQL takes :NAME, :'NAME' (a
                 string literal) and :\"NAME\" (an identifier)
\\unset NAME      remove a variable
\\c URL           connect to URL instead (the shell and its settings stay)
\\watch [SEC [N]] run the last statement again every SEC seconds (2), N times or until Ctrl-C
\\errverbose      the last error in full (kind, code, causes)
\\h [STATEMENT]  SQL synopsis of a statement; without one, the topics and the server's keywords
\\refresh         fetch the names Tab completes again (tables, columns, keywords)
\\conninfo        the connection (secrets hidden)
\\?               this help
\\q               quit
SQL statements end with ';'.";

/// A meta-command, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Meta {
    /// `\l`.
    Catalogs,
    /// `\dn [pattern]`.
    Schemas(Option<String>),
    /// `\dt [pattern]`.
    Tables(Option<String>),
    /// `\d name`.
    Describe(String),
    /// `\x`.
    Expanded,
    /// `\format name`.
    Format(String),
    /// `\pset pager [on|off]` (none: toggle).
    Pager(Option<bool>),
    /// `\timing`.
    Timing,
    /// `\o [file]`.
    Output(Option<String>),
    /// `\i file`.
    Include(String),
    /// `\copy ...`.
    Copy(crate::copy::Copy),
    /// `\set [name [value]]`.
    Set(Option<(String, String)>),
    /// `\unset name`.
    Unset(String),
    /// `\c url`.
    Connect(String),
    /// `\watch [seconds [times]]`.
    Watch {
        /// Seconds between runs.
        seconds: f64,
        /// How many runs (none: until Ctrl-C).
        times: Option<u64>,
    },
    /// `\errverbose`.
    ErrVerbose,
    /// `\refresh`.
    Refresh,
    /// `\h [topic]`.
    SqlHelp(Option<String>),
    /// `\conninfo`.
    ConnInfo,
    /// `\?`.
    Help,
    /// `\q`.
    Quit,
}

impl Meta {
    /// Parses a line starting with `\`.
    pub fn parse(line: &str) -> Result<Meta, String> {
        let line = line.trim().trim_end_matches(';').trim();
        let (name, arg) = match line.split_once(char::is_whitespace) {
            Some((name, arg)) => (name, Some(arg.trim().to_owned()).filter(|a| !a.is_empty())),
            None => (line, None),
        };
        Ok(match (name, arg) {
            ("\\l", None) => Meta::Catalogs,
            ("\\dn", arg) => Meta::Schemas(arg),
            ("\\dt", arg) => Meta::Tables(arg),
            ("\\d", Some(table)) => Meta::Describe(table),
            ("\\x", None) => Meta::Expanded,
            ("\\format", Some(format)) => Meta::Format(format),
            ("\\timing", None) => Meta::Timing,
            ("\\pset", Some(arg)) => {
                let words: Vec<&str> = arg.split_whitespace().collect();
                match words.as_slice() {
                    ["pager"] => Meta::Pager(None),
                    ["pager", "on" | "true" | "1"] => Meta::Pager(Some(true)),
                    ["pager", "off" | "false" | "0"] => Meta::Pager(Some(false)),
                    _ => {
                        return Err(format!(
                            "\\pset: {arg:?} is not supported; \\pset pager [on|off] is"
                        ));
                    }
                }
            }
            ("\\o", file) => Meta::Output(file),
            ("\\i", Some(file)) => Meta::Include(file),
            ("\\i", None) => return Err("\\i needs a file name".into()),
            ("\\copy", arg) => Meta::Copy(crate::copy::Copy::parse(arg.as_deref().unwrap_or(""))?),
            ("\\set", None) => Meta::Set(None),
            ("\\set", Some(rest)) => {
                let (name, value) = rest
                    .split_once(char::is_whitespace)
                    .map_or((rest.as_str(), ""), |(n, v)| (n, v.trim()));
                if !crate::script::is_variable_name(name) {
                    return Err(format!(
                        "\\set: {name:?} is no variable name (letters, digits and _)"
                    ));
                }
                Meta::Set(Some((name.to_owned(), value.to_owned())))
            }
            ("\\unset", Some(name)) => Meta::Unset(name),
            ("\\unset", None) => return Err("\\unset needs a variable name".into()),
            ("\\c" | "\\connect", Some(url)) => Meta::Connect(url),
            ("\\c" | "\\connect", None) => return Err("\\c needs a URL".into()),
            ("\\watch", arg) => {
                let words: Vec<&str> = arg.as_deref().unwrap_or("").split_whitespace().collect();
                let bad = || {
                    format!(
                        "\\watch [SECONDS [TIMES]]: cannot read {:?}",
                        words.join(" ")
                    )
                };
                let seconds = match words.first() {
                    Some(w) => w
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .ok_or_else(bad)?,
                    None => 2.0,
                };
                let times = match words.get(1) {
                    Some(w) => Some(w.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(bad)?),
                    None => None,
                };
                if words.len() > 2 {
                    return Err(bad());
                }
                Meta::Watch { seconds, times }
            }
            ("\\errverbose", None) => Meta::ErrVerbose,
            ("\\refresh", None) => Meta::Refresh,
            ("\\h" | "\\help", topic) => Meta::SqlHelp(topic),
            ("\\conninfo", None) => Meta::ConnInfo,
            ("\\?", None) => Meta::Help,
            ("\\q", None) => Meta::Quit,
            ("\\d", None) => return Err("\\d needs a table name (\\dt lists tables)".into()),
            ("\\format", None) => {
                return Err(
                    "\\format needs a format: table, csv, json, ndjson, arrow or parquet".into(),
                );
            }
            (name, _) => {
                return Err(format!(
                    "unknown or malformed meta-command {name} (\\? lists them)"
                ));
            }
        })
    }
}

/// The synopses of `\h`: the common statements, in the SQL most servers take (a server's
/// dialect may differ; its own keywords are listed by `\h`).
pub const SYNOPSES: &[(&str, &str)] = &[
    (
        "SELECT",
        "[WITH name AS (query) [, ...]]\nSELECT [DISTINCT] expression [AS name] [, ...]\n           [FROM from_item [, ...]] [WHERE condition]\n  [GROUP BY expression [, ...]]          [HAVING condition]\n  [{UNION | INTERSECT | EXCEPT} [ALL] select]\n           [ORDER BY expression [ASC | DESC] [NULLS {FIRST | LAST}] [, ...]]\n           [LIMIT count] [OFFSET start]",
    ),
    (
        "INSERT",
        "INSERT INTO table [(column [, ...])]\n  { VALUES (expression [, ...]) [, ...] | query }",
    ),
    (
        "UPDATE",
        "UPDATE table SET column = expression [, ...] [WHERE condition]",
    ),
    ("DELETE", "DELETE FROM table [WHERE condition]"),
    (
        "CREATE TABLE",
        "CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name (column type [NOT NULL] [, ...])\n         CREATE TABLE name AS query",
    ),
    (
        "CREATE VIEW",
        "CREATE [OR REPLACE] VIEW name [(column [, ...])] AS query",
    ),
    ("DROP TABLE", "DROP TABLE [IF EXISTS] name [, ...]"),
    ("DROP VIEW", "DROP VIEW [IF EXISTS] name [, ...]"),
    ("EXPLAIN", "EXPLAIN [ANALYZE] [VERBOSE] statement"),
    ("BEGIN", "BEGIN [TRANSACTION]  -- then COMMIT or ROLLBACK"),
    ("COMMIT", "COMMIT [TRANSACTION]"),
    ("ROLLBACK", "ROLLBACK [TRANSACTION]"),
];

/// The synopses of the statements `topic` names (`\h select`, `\h create table t`) or
/// begins (`\h create`: both `CREATE` statements).
pub fn synopses(topic: &str) -> Vec<(&'static str, &'static str)> {
    let topic = topic
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    let named: Vec<_> = SYNOPSES
        .iter()
        .filter(|(name, _)| topic == *name || topic.starts_with(&format!("{name} ")))
        .copied()
        .collect();
    if !named.is_empty() {
        return named;
    }
    SYNOPSES
        .iter()
        .filter(|(name, _)| name.starts_with(&topic))
        .copied()
        .collect()
}

/// A batch of text columns.
pub fn text_batch(
    columns: Vec<(&str, Vec<Option<String>>)>,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    RecordBatch::try_from_iter(
        columns
            .into_iter()
            .map(|(name, values)| (name, Arc::new(StringArray::from(values)) as ArrayRef)),
    )
}

/// `[catalog.][schema.]name` as a table reference.
pub fn table_ref(name: &str) -> TableRef {
    let parts: Vec<&str> = name.split('.').collect();
    match parts.as_slice() {
        [catalog, schema, table] => TableRef::new(*table)
            .in_schema(*schema)
            .in_catalog(*catalog),
        [schema, table] => TableRef::new(*table).in_schema(*schema),
        _ => TableRef::new(name),
    }
}

/// The filter of `\dt [schema.]pattern`.
pub fn table_filter(pattern: Option<&str>) -> TableFilter {
    match pattern.map(|p| p.split_once('.')) {
        Some(Some((schema, table))) => TableFilter::new().schema(schema).table(table),
        Some(None) => TableFilter::new().table(pattern.unwrap_or("%")),
        None => TableFilter::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_commands_parse() {
        assert_eq!(Meta::parse("\\l"), Ok(Meta::Catalogs));
        assert_eq!(
            Meta::parse("\\dt shop.%;"),
            Ok(Meta::Tables(Some("shop.%".into())))
        );
        assert_eq!(Meta::parse("\\dn"), Ok(Meta::Schemas(None)));
        assert_eq!(
            Meta::parse("\\d  orders "),
            Ok(Meta::Describe("orders".into()))
        );
        assert_eq!(Meta::parse("\\o"), Ok(Meta::Output(None)));
        assert!(
            Meta::parse("\\d")
                .unwrap_err()
                .contains("needs a table name")
        );
        assert!(Meta::parse("\\zz").unwrap_err().contains("unknown"));
    }

    #[test]
    fn sql_help_finds_statements() {
        let names = |topic: &str| synopses(topic).iter().map(|s| s.0).collect::<Vec<_>>();
        assert_eq!(names("select"), ["SELECT"]);
        assert_eq!(names("create  table t"), ["CREATE TABLE"]);
        assert_eq!(names("CREATE"), ["CREATE TABLE", "CREATE VIEW"]);
        assert!(names("vacuum").is_empty());
        assert_eq!(
            Meta::parse("\\h insert"),
            Ok(Meta::SqlHelp(Some("insert".into())))
        );
        assert_eq!(Meta::parse("\\refresh"), Ok(Meta::Refresh));
        assert_eq!(
            Meta::parse("\\pset pager off"),
            Ok(Meta::Pager(Some(false)))
        );
        assert!(
            Meta::parse("\\pset border 2")
                .unwrap_err()
                .contains("not supported")
        );
    }

    #[test]
    fn names_and_patterns() {
        assert_eq!(
            table_ref("a.b.c"),
            TableRef::new("c").in_schema("b").in_catalog("a")
        );
        assert_eq!(
            table_ref("shop.orders"),
            TableRef::new("orders").in_schema("shop")
        );
        let f = table_filter(Some("shop.ord%"));
        assert_eq!(
            (f.schema_pattern.as_deref(), f.table_pattern.as_deref()),
            (Some("shop"), Some("ord%"))
        );
        assert_eq!(
            table_filter(Some("t%")).table_pattern.as_deref(),
            Some("t%")
        );
    }
}

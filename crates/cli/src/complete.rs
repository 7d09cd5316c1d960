//! Tab completion in the shell: SQL keywords (the standard ones and those the server lists),
//! catalogs, schemas, tables and columns (from the metadata API, fetched when the shell
//! starts and again on `\refresh` or `\c`), meta-commands, and file names after `\i`, `\o`
//! and `\copy … FROM|TO`.
//!
//! Completing never asks the server: it reads the names fetched before, so a Tab press never
//! waits for the network.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

/// The most candidates offered for one Tab press.
const MAX_CANDIDATES: usize = 500;

/// SQL keywords offered in every session (the server's own come on top).
const KEYWORDS: &[&str] = &[
    "ALL",
    "ALTER",
    "AND",
    "AS",
    "ASC",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "COUNT",
    "CREATE",
    "CROSS",
    "DELETE",
    "DESC",
    "DESCRIBE",
    "DISTINCT",
    "DROP",
    "ELSE",
    "END",
    "EXCEPT",
    "EXISTS",
    "EXPLAIN",
    "FALSE",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "IN",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTO",
    "IS",
    "JOIN",
    "LEFT",
    "LIKE",
    "LIMIT",
    "NOT",
    "NULL",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PARTITION",
    "RIGHT",
    "SELECT",
    "SET",
    "SHOW",
    "TABLE",
    "THEN",
    "TRUE",
    "UNION",
    "UPDATE",
    "USING",
    "VALUES",
    "VIEW",
    "WHEN",
    "WHERE",
    "WITH",
];

/// The meta-commands, for completion after `\`.
const META_COMMANDS: &[&str] = &[
    "\\?",
    "\\c",
    "\\conninfo",
    "\\copy",
    "\\d",
    "\\dn",
    "\\dt",
    "\\errverbose",
    "\\format",
    "\\h",
    "\\i",
    "\\l",
    "\\o",
    "\\pset",
    "\\q",
    "\\refresh",
    "\\set",
    "\\timing",
    "\\unset",
    "\\watch",
    "\\x",
];

/// The names completion offers, from the server.
#[derive(Debug, Default)]
pub struct Names {
    /// Keywords the server lists beyond the standard ones, uppercase.
    pub keywords: BTreeSet<String>,
    /// Catalogs, schemas, tables (plain and qualified) and columns.
    pub objects: BTreeSet<String>,
    /// Tables (plain and qualified), for `\d`.
    pub tables: BTreeSet<String>,
}

impl Names {
    /// The names of `tables` (with their columns) and the server's `keywords`.
    pub fn new(tables: &[dbapi::metadata::TableInfo], keywords: &[String]) -> Names {
        let mut names = Names {
            keywords: keywords.iter().map(|k| k.to_uppercase()).collect(),
            ..Names::default()
        };
        for t in tables {
            let mut qualified = t.name.clone();
            names.tables.insert(t.name.clone());
            if let Some(schema) = &t.schema {
                qualified = format!("{schema}.{}", t.name);
                names.objects.insert(schema.clone());
                names.tables.insert(qualified.clone());
            }
            if let Some(catalog) = &t.catalog {
                names.objects.insert(catalog.clone());
                names.tables.insert(format!("{catalog}.{qualified}"));
            }
            for c in &t.columns {
                names.objects.insert(c.name.clone());
            }
        }
        names.objects.extend(names.tables.iter().cloned());
        // A name the terminal would have to obey (an escape sequence, a control or
        // reordering character) is never written to it: not offered at all, as it could not
        // be typed either. Tables show such names escaped.
        let plain = |n: &String| matches!(crate::output::shown(n), Cow::Borrowed(_));
        names.tables.retain(plain);
        names.objects.retain(plain);
        names.keywords.retain(plain);
        names
    }
}

/// The shell's completion (a rustyline helper). The names are shared with the session, which
/// refreshes them.
pub struct SqlHelper {
    names: Arc<RwLock<Names>>,
    files: FilenameCompleter,
}

impl SqlHelper {
    /// Completion from `names`.
    pub fn new(names: Arc<RwLock<Names>>) -> SqlHelper {
        SqlHelper {
            names,
            files: FilenameCompleter::new(),
        }
    }

    /// The candidates for the word `word` (the text before the cursor back to the last
    /// character that is not part of a name): keywords in the case the word is typed in, and
    /// names as the server spells them; names first when both match.
    fn words(&self, word: &str, tables_only: bool) -> Vec<Pair> {
        let lower = word.to_lowercase();
        let starts = |name: &str| name.to_lowercase().starts_with(&lower);
        let mut out: Vec<String> = Vec::new();
        // A poisoned lock holds names written completely before the panic: still usable.
        let names = self.names.read().unwrap_or_else(|e| e.into_inner());
        let objects = if tables_only {
            &names.tables
        } else {
            &names.objects
        };
        out.extend(objects.iter().filter(|n| starts(n)).cloned());
        if !tables_only && !word.contains('.') {
            let upper = word.chars().any(char::is_uppercase) || word.is_empty();
            let keywords = KEYWORDS
                .iter()
                .map(|k| Cow::Borrowed(*k))
                .chain(names.keywords.iter().map(|k| Cow::Borrowed(k.as_str())));
            let mut found: BTreeSet<String> = BTreeSet::new();
            for k in keywords.filter(|k| starts(k)) {
                found.insert(if upper {
                    k.into_owned()
                } else {
                    k.to_lowercase()
                });
            }
            found.retain(|k| !out.contains(k));
            out.extend(found);
        }
        out.truncate(MAX_CANDIDATES);
        out.into_iter()
            .map(|n| Pair {
                display: n.clone(),
                replacement: n,
            })
            .collect()
    }
}

/// Where the name before `pos` starts.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

impl Completer for SqlHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let trimmed = before.trim_start();
        if trimmed.starts_with('\\') {
            let mut words = trimmed.split_whitespace();
            let command = words.next().unwrap_or("");
            if !trimmed.contains(char::is_whitespace) {
                let start = pos - trimmed.len();
                let found = META_COMMANDS
                    .iter()
                    .filter(|m| m.starts_with(command))
                    .map(|m| Pair {
                        display: (*m).to_owned(),
                        replacement: (*m).to_owned(),
                    })
                    .collect();
                return Ok((start, found));
            }
            let after_direction = command == "\\copy"
                && trimmed
                    .split_whitespace()
                    .rev()
                    .nth(usize::from(!before.ends_with(char::is_whitespace)))
                    .is_some_and(|w| {
                        w.eq_ignore_ascii_case("from") || w.eq_ignore_ascii_case("to")
                    });
            if matches!(command, "\\i" | "\\o") || after_direction {
                return self.files.complete(line, pos, ctx);
            }
            let start = word_start(line, pos);
            let tables_only = matches!(command, "\\d" | "\\dt" | "\\copy");
            return Ok((start, self.words(&line[start..pos], tables_only)));
        }
        let start = word_start(line, pos);
        if start == pos {
            return Ok((pos, Vec::new()));
        }
        Ok((start, self.words(&line[start..pos], false)))
    }
}

impl Hinter for SqlHelper {
    type Hint = String;
}

impl Highlighter for SqlHelper {}

impl Validator for SqlHelper {}

impl Helper for SqlHelper {}

#[cfg(test)]
mod tests {
    use super::*;
    use dbapi::metadata::{ColumnInfo, TableInfo};

    fn helper() -> SqlHelper {
        let readings = TableInfo {
            catalog: Some("main".into()),
            schema: Some("public".into()),
            name: "readings".into(),
            table_type: "TABLE".into(),
            columns: vec![ColumnInfo {
                name: "temperature".into(),
                data_type: arrow::datatypes::DataType::Float64,
                nullable: true,
                ordinal: 1,
                remarks: None,
                type_name: None,
            }],
        };
        let orders = TableInfo {
            catalog: None,
            schema: Some("shop".into()),
            name: "orders".into(),
            table_type: "TABLE".into(),
            columns: vec![],
        };
        let names = Names::new(&[readings, orders], &["QUALIFY".to_owned()]);
        SqlHelper::new(Arc::new(RwLock::new(names)))
    }

    fn replacements(helper: &SqlHelper, line: &str) -> (usize, Vec<String>) {
        let history = rustyline::history::DefaultHistory::new();
        let ctx = Context::new(&history);
        let (start, pairs) = helper.complete(line, line.len(), &ctx).unwrap();
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn names_holding_escapes_are_never_offered() {
        let evil = "t\x1b]52;c;cHduZWQ=\x07";
        let table = |name: &str| TableInfo {
            catalog: None,
            schema: None,
            name: name.to_owned(),
            table_type: "TABLE".into(),
            columns: vec![],
        };
        let names = Names::new(
            &[table(evil), table("readings")],
            &["K\u{202e}W".to_owned()],
        );
        let h = SqlHelper::new(Arc::new(RwLock::new(names)));
        let (_, offered) = replacements(&h, "SELECT * FROM t");
        assert!(offered.iter().all(|n| !n.contains('\x1b')), "{offered:?}");
        let (_, offered) = replacements(&h, "SELECT k");
        assert!(
            offered.iter().all(|n| !n.contains('\u{202e}')),
            "{offered:?}"
        );
        // The plain names are still there.
        assert!(!replacements(&h, "SELECT * FROM rea").1.is_empty());
    }

    #[test]
    fn tables_columns_and_keywords_complete() {
        let h = helper();
        assert_eq!(
            replacements(&h, "SELECT * FROM rea"),
            (14, vec!["readings".to_owned()])
        );
        assert_eq!(
            replacements(&h, "select tempe"),
            (7, vec!["temperature".to_owned()])
        );
        assert_eq!(
            replacements(&h, "SELECT * FROM shop.o"),
            (14, vec!["shop.orders".to_owned()])
        );
        // Keywords keep the case they are typed in; the server's own are offered too.
        assert_eq!(replacements(&h, "sel").1, vec!["select".to_owned()]);
        assert_eq!(replacements(&h, "SEL").1, vec!["SELECT".to_owned()]);
        assert_eq!(
            replacements(&h, "SELECT 1 qua").1,
            vec!["qualify".to_owned()]
        );
        assert_eq!(replacements(&h, "SELECT 1 ").1, Vec::<String>::new());
    }

    #[test]
    fn meta_commands_and_their_arguments_complete() {
        let h = helper();
        assert_eq!(replacements(&h, "\\ref"), (0, vec!["\\refresh".to_owned()]));
        assert_eq!(replacements(&h, "\\d sh").1, vec!["shop.orders".to_owned()]);
        // File names after \i.
        let dir = std::env::temp_dir().join(format!("dbapi-complete-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("script-one.sql"), "SELECT 1;").unwrap();
        let line = format!("\\i {}/script-o", dir.display());
        let full = format!("{}/script-one.sql", dir.display());
        assert_eq!(replacements(&h, &line).1, vec![full.clone()], "{line}");
        let line = format!("\\copy orders FROM {}/scr", dir.display());
        assert_eq!(replacements(&h, &line).1, vec![full]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

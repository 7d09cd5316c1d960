//! What a driver reads from SQL text without parsing it.

/// Whether a statement changes data or definitions (by its first keyword): its result is
/// then a row count, not rows. Leading comments and parentheses are skipped; a statement
/// with `RETURNING` still counts as changing data (its rows are not read).
pub fn changes_data(sql: &str) -> bool {
    const KEYWORDS: [&str; 15] = [
        "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "CREATE", "DROP", "ALTER",
        "TRUNCATE", "COPY", "GRANT", "REVOKE", "COMMENT", "RENAME",
    ];
    let mut rest = sql;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r);
        } else {
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase();
    KEYWORDS.contains(&word.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_that_change_data() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "  update t set a = 1",
            "-- note\nDELETE FROM t",
            "/* x */ CREATE TABLE t (a INT)",
            "(drop table t)",
            "Truncate t",
        ] {
            assert!(changes_data(sql), "{sql}");
        }
        for sql in [
            "SELECT 1",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "VALUES (1)",
            "EXPLAIN SELECT 1",
            "SHOW TABLES",
            "",
            "-- only a comment",
            "INSERTED",
        ] {
            assert!(!changes_data(sql), "{sql}");
        }
    }
}

//! Reading SQL text: where statements end, what is code and what is a string or a comment.
//!
//! One lexer decides what is not code: strings (`'…'`, with `''` for a quote, and `E'…'`,
//! which also takes backslash escapes), quoted identifiers (`"…"`, `` `…` ``), dollar-quoted
//! strings (`$$…$$`, `$tag$…$tag$`) and comments (`-- …` to the end of the line, `/* … */`,
//! nested). The splitter and the placeholder scan both ask it, so they never disagree.

/// Splits a script into its statements: each ends at a `;` in code (see the module docs).
/// Statements are trimmed; empty ones (and comment-only ones) are dropped. The text after the
/// last `;` is returned as the remainder (an unfinished statement, as it is, so that more
/// lines can be appended; empty when it holds no code).
pub fn split(script: &str) -> (Vec<String>, String) {
    let mut statements = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < script.len() {
        if let Some(end) = skip_non_code(script, i) {
            i = end;
        } else if script.as_bytes()[i] == b';' {
            push(&mut statements, &script[start..i]);
            i += 1;
            start = i;
        } else {
            i += 1;
        }
    }
    let rest = &script[start.min(script.len())..];
    (
        statements,
        if has_code(rest) {
            rest.to_owned()
        } else {
            String::new()
        },
    )
}

/// Splits a script file as [`split`] does, with meta-commands: a line starting with `\`
/// where no statement is open is one meta-command (as the shell and standard input take it).
pub fn split_script(text: &str) -> (Vec<String>, String) {
    let mut lines = Lines::default();
    let out = text
        .split_inclusive('\n')
        .flat_map(|line| lines.push(line))
        .collect();
    (out, lines.open)
}

/// Statements as lines arrive (the shell, standard input, script files): a line starting
/// with `\` where no statement is open is one meta-command; other lines add to the open
/// statement, which ends at a `;` in code.
#[derive(Debug, Default)]
pub struct Lines {
    /// The unfinished statement (empty when it holds no code).
    open: String,
}

impl Lines {
    /// Takes one line (its newline optional); returns the statements and meta-commands it
    /// completes.
    pub fn push(&mut self, line: &str) -> Vec<String> {
        if !self.is_open() && line.trim_start().starts_with('\\') {
            return vec![line.trim().to_owned()];
        }
        // Lines without their newline (the shell's) are joined with one.
        if self.is_open() && !self.open.ends_with('\n') {
            self.open.push('\n');
        }
        self.open.push_str(line);
        let (statements, rest) = split(&self.open);
        self.open = rest;
        statements
    }

    /// Whether a statement is open (more lines are needed to end it).
    pub fn is_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// Drops the open statement.
    pub fn clear(&mut self) {
        self.open.clear();
    }

    /// The open statement, trimmed, as the last one of the input (at its end); none is left.
    pub fn take_rest(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.open);
        Some(rest.trim().to_owned()).filter(|r| !r.is_empty())
    }
}

/// Whether a statement has placeholders (`$1`, `$name`, `:name`, `?`) in its code, so that
/// parameters go only to the statements that take them. A `::` cast is no placeholder.
pub fn mentions_parameters(sql: &str) -> bool {
    let bytes = sql.as_bytes();
    let starts_name = |at: usize| {
        sql[at..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    };
    let mut i = 0;
    while i < bytes.len() {
        if let Some(end) = skip_non_code(sql, i) {
            i = end;
            continue;
        }
        match bytes[i] {
            b'?' => return true,
            b':' if bytes.get(i + 1) == Some(&b':') => i += 1,
            b'$' | b':' if starts_name(i + 1) => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// What a statement is, as psql names it: its first keyword, with the kind of object for
/// `CREATE`, `DROP` and `ALTER` (`CREATE TABLE`, `DROP VIEW`), uppercased; comments skipped.
pub fn command_tag(sql: &str) -> String {
    let mut code = String::new();
    let mut i = 0;
    // The first words are all that is read: a statement's start is enough to name it.
    while i < sql.len() && code.len() < 256 {
        match skip_non_code(sql, i) {
            Some(end) => {
                code.push(' ');
                i = end;
            }
            None => {
                let c = sql[i..].chars().next().unwrap_or(' ');
                code.push(c);
                i += c.len_utf8();
            }
        }
    }
    const MODIFIERS: [&str; 7] = [
        "OR",
        "REPLACE",
        "TEMP",
        "TEMPORARY",
        "EXTERNAL",
        "UNIQUE",
        "UNBOUNDED",
    ];
    let mut words = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_uppercase);
    let Some(first) = words.next() else {
        return String::new();
    };
    if !matches!(first.as_str(), "CREATE" | "DROP" | "ALTER") {
        return first;
    }
    match words.find(|w| !MODIFIERS.contains(&w.as_str())) {
        Some(object) => format!("{first} {object}"),
        None => first,
    }
}

/// Whether `name` can name a variable (`\set NAME`): letters, digits and `_`.
pub fn is_variable_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Replaces the variables in a statement's code: `:NAME` by the value as it is, `:'NAME'` by
/// the value as a string literal (quotes doubled), `:"NAME"` by the value as a quoted
/// identifier. Names not set, strings, comments and `::` casts are left as they are (so `:name`
/// stays a parameter placeholder unless a variable of that name is set).
pub fn interpolate(sql: &str, vars: &std::collections::BTreeMap<String, String>) -> String {
    if vars.is_empty() {
        return sql.to_owned();
    }
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(end) = skip_non_code(sql, i) {
            i = end;
            continue;
        }
        if bytes[i] != b':' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) == Some(&b':') {
            i += 2;
            continue;
        }
        let (quote, name_start) = match bytes.get(i + 1) {
            Some(q @ (b'\'' | b'"')) => (Some(*q), i + 2),
            _ => (None, i + 1),
        };
        let name_len = sql[name_start..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(sql.len() - name_start);
        let name = &sql[name_start..name_start + name_len];
        let mut end = name_start + name_len;
        let closed = match quote {
            Some(q) => {
                let ok = bytes.get(end) == Some(&q);
                end += 1;
                ok
            }
            None => true,
        };
        match vars.get(name).filter(|_| closed && !name.is_empty()) {
            Some(value) => {
                out.push_str(&sql[copied..i]);
                match quote {
                    Some(b'\'') => out.push_str(&format!("'{}'", value.replace('\'', "''"))),
                    Some(_) => out.push_str(&format!("\"{}\"", value.replace('"', "\"\""))),
                    None => out.push_str(value),
                }
                copied = end;
                i = end;
            }
            None => i += 1,
        }
    }
    out.push_str(&sql[copied..]);
    out
}

/// Whether a statement of this [`command_tag`] changes rows (and so has a row count).
pub fn changes_rows(tag: &str) -> bool {
    matches!(
        tag,
        "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "UPSERT" | "REPLACE" | "COPY"
    )
}

/// The index of the `)` closing the `(` at byte `open`, parentheses in strings, quoted
/// identifiers and comments not counted; `None` when it is not closed.
pub fn closing_paren(sql: &str, open: usize) -> Option<usize> {
    let bytes = sql.as_bytes();
    let mut depth = 0_usize;
    let mut i = open;
    while i < bytes.len() {
        if let Some(end) = skip_non_code(sql, i) {
            i = end;
            continue;
        }
        match bytes[i] {
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn push(statements: &mut Vec<String>, text: &str) {
    let text = text.trim();
    if has_code(text) {
        statements.push(text.to_owned());
    }
}

/// Whether text holds anything besides whitespace and comments.
fn has_code(text: &str) -> bool {
    let mut i = 0;
    while i < text.len() {
        let b = text.as_bytes()[i];
        if is_comment_start(text.as_bytes(), i) {
            i = skip_non_code(text, i).unwrap_or(text.len());
        } else if b.is_ascii_whitespace() {
            i += 1;
        } else {
            return true;
        }
    }
    false
}

fn is_comment_start(bytes: &[u8], i: usize) -> bool {
    matches!(
        (bytes.get(i), bytes.get(i + 1)),
        (Some(b'-'), Some(b'-')) | (Some(b'/'), Some(b'*'))
    )
}

/// When a string, quoted identifier or comment starts at byte `i`, the index after it (the
/// end of the text when it is not closed); `None` when code starts there.
fn skip_non_code(text: &str, i: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    match bytes[i] {
        b'\'' => Some(
            skip_q_quoted(text, i)
                .unwrap_or_else(|| skip_quoted(bytes, i, is_escape_string(bytes, i))),
        ),
        b'"' | b'`' => Some(skip_quoted(bytes, i, false)),
        b'-' if bytes.get(i + 1) == Some(&b'-') => {
            Some(text[i..].find('\n').map_or(text.len(), |n| i + n + 1))
        }
        b'/' if bytes.get(i + 1) == Some(&b'*') => Some(skip_block_comment(bytes, i)),
        b'$' => skip_dollar_quoted(text, i),
        _ => None,
    }
}

/// Whether the quote at `i` opens an `E'…'` string: an `E` or `e` right before it that is
/// not the end of a longer word.
fn is_escape_string(bytes: &[u8], i: usize) -> bool {
    prefixed_by(bytes, i, b'e')
}

/// Whether the quote at `i` follows the letter `letter` (either case), itself not the end of
/// a longer word (`NQ'…'` counts for `Q`).
fn prefixed_by(bytes: &[u8], i: usize, letter: u8) -> bool {
    let word_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    i >= 1
        && bytes[i - 1].eq_ignore_ascii_case(&letter)
        && (i == 1
            || !word_char(bytes[i - 2])
            || (letter == b'q'
                && bytes[i - 2].eq_ignore_ascii_case(&b'n')
                && (i == 2 || !word_char(bytes[i - 3]))))
}

/// The index after an alternative-quoted string starting at the quote `i` (`Q'[…]'`,
/// `q'{…}'`, `Q'(…)'`, `Q'<…>'`, or `Q'X…X'` for another character `X`), in which quotes and
/// semicolons are text; `None` when the quote does not open one.
fn skip_q_quoted(text: &str, i: usize) -> Option<usize> {
    if !prefixed_by(text.as_bytes(), i, b'q') {
        return None;
    }
    let open = text[i + 1..].chars().next()?;
    if open.is_whitespace() || open == '\'' {
        return None;
    }
    let close = match open {
        '[' => ']',
        '{' => '}',
        '(' => ')',
        '<' => '>',
        c => c,
    };
    let body = i + 1 + open.len_utf8();
    let end = format!("{close}'");
    Some(
        text[body..]
            .find(&end)
            .map_or(text.len(), |n| body + n + end.len()),
    )
}

/// The index after a quoted run starting at `i`: a doubled quote is a quote, and in an
/// escape string a backslash takes the next byte with it.
fn skip_quoted(bytes: &[u8], i: usize, backslash_escapes: bool) -> usize {
    let quote = bytes[i];
    let mut j = i + 1;
    while j < bytes.len() {
        if backslash_escapes && bytes[j] == b'\\' {
            j += 2;
        } else if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
            } else {
                return j + 1;
            }
        } else {
            j += 1;
        }
    }
    bytes.len()
}

/// The index after a block comment starting at `i`; `/* /* */ */` nests.
fn skip_block_comment(bytes: &[u8], i: usize) -> usize {
    let mut depth = 0_usize;
    let mut j = i;
    while j + 1 < bytes.len() {
        match (bytes[j], bytes[j + 1]) {
            (b'/', b'*') => {
                depth += 1;
                j += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                j += 2;
                if depth == 0 {
                    return j;
                }
            }
            _ => j += 1,
        }
    }
    bytes.len()
}

/// The index after a dollar-quoted string starting at `i` (`$$...$$` or `$tag$...$tag$`), or
/// `None` when the `$` starts no such string (e.g. a `$1` placeholder).
fn skip_dollar_quoted(script: &str, i: usize) -> Option<usize> {
    let rest = &script[i + 1..];
    let end = rest.find('$')?;
    let tag = &rest[..end];
    if !tag.chars().all(|c| c.is_alphanumeric() || c == '_')
        || tag.starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let delimiter = format!("${tag}$");
    let body = i + delimiter.len();
    Some(
        script[body..]
            .find(&delimiter)
            .map_or(script.len(), |n| body + n + delimiter.len()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_semicolons_outside_quotes_and_comments() {
        let (statements, rest) = split(
            "SELECT 1; SELECT 'a;b' AS \"x;y\"; -- c;d\nSELECT $1 /* e;f */;\n\
             SELECT $$g;h$$; SELECT 'it''s; fine'; SELECT",
        );
        assert_eq!(
            statements,
            [
                "SELECT 1",
                "SELECT 'a;b' AS \"x;y\"",
                "-- c;d\nSELECT $1 /* e;f */",
                "SELECT $$g;h$$",
                "SELECT 'it''s; fine'",
            ]
        );
        assert_eq!(rest, " SELECT");
    }

    #[test]
    fn escape_strings_nested_comments_and_backticks_hide_their_semicolons() {
        let (statements, rest) = split(
            r"SELECT E'it\'s; still \\' AS a; SELECT /* outer /* inner; */ still; */ 2; SELECT `b;c` FROM t;",
        );
        assert_eq!(
            statements,
            [
                r"SELECT E'it\'s; still \\' AS a",
                "SELECT /* outer /* inner; */ still; */ 2",
                "SELECT `b;c` FROM t",
            ]
        );
        assert_eq!(rest, "");
        // A plain string takes no backslash escapes, and a word ending in E is no prefix.
        let (statements, _) = split(r"SELECT '\'; SELECT 1; SELECT name'x;y' FROM t;");
        assert_eq!(
            statements,
            [r"SELECT '\'", "SELECT 1", "SELECT name'x;y' FROM t"]
        );
        let (statements, _) = split(r"SELECT some'\'; DROP TABLE t; --';");
        assert_eq!(statements.len(), 2, "{statements:?}");
    }

    #[test]
    fn scripts_take_meta_commands_on_their_own_lines() {
        let (statements, rest) = split_script(
            "\\set t readings\nSELECT 1\n  FROM :t;\n  \\x\nSELECT '\n\\not meta';\nSELECT 2",
        );
        assert_eq!(
            statements,
            [
                "\\set t readings",
                "SELECT 1\n  FROM :t",
                "\\x",
                "SELECT '\n\\not meta'"
            ]
        );
        assert_eq!(rest, "SELECT 2");
    }

    #[test]
    fn empty_and_comment_only_statements_are_dropped() {
        let (statements, rest) = split(" ; -- only a comment\n; /* c /* d */ */ ;\n");
        assert!(statements.is_empty(), "{statements:?}");
        assert_eq!(rest, "");
        let (statements, rest) = split("SELECT 1 -- no semicolon");
        assert!(statements.is_empty());
        assert_eq!(rest, "SELECT 1 -- no semicolon");
    }

    #[test]
    fn alternative_quoted_strings_hide_their_quotes_and_semicolons() {
        let (done, rest) = split(
            "SELECT Q'[it's; DROP TABLE t; ]' AS a; SELECT nq'{x'; y}' AS b; SELECT q'!a;'b!';",
        );
        assert_eq!(
            done,
            [
                "SELECT Q'[it's; DROP TABLE t; ]' AS a",
                "SELECT nq'{x'; y}' AS b",
                "SELECT q'!a;'b!'",
            ]
        );
        assert_eq!(rest, "");
        // A word ending in q is no prefix; an unclosed one runs to the end without panicking.
        assert_eq!(split("SELECT faq'x;y' ; x;").0, ["SELECT faq'x;y'", "x"]);
        assert_eq!(split("SELECT Q'[é;").0, Vec::<String>::new());
    }

    #[test]
    fn unterminated_quotes_never_panic() {
        for script in [
            "'abc",
            "\"x",
            "/* open",
            "/* /* */",
            "$tag$ open",
            "$",
            "--",
            "é'ü;",
            "E'\\",
            "`",
        ] {
            let _ = split(script);
            let _ = mentions_parameters(script);
        }
    }

    #[test]
    fn variables_are_interpolated_in_code_only() {
        let vars: std::collections::BTreeMap<String, String> =
            [("t", "readings"), ("who", "O'Brien"), ("col", "a \"b\"")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        assert_eq!(
            interpolate(
                "SELECT :\"col\" FROM :t WHERE n = :'who' AND x::int = :unset",
                &vars
            ),
            "SELECT \"a \"\"b\"\"\" FROM readings WHERE n = 'O''Brien' AND x::int = :unset"
        );
        assert_eq!(
            interpolate("SELECT ':t', $$:t$$ -- :t\n/* :t */", &vars),
            "SELECT ':t', $$:t$$ -- :t\n/* :t */"
        );
        // A quoted form not closed is left alone; nothing is lost at the end of the text.
        assert_eq!(interpolate("SELECT :'t", &vars), "SELECT :'t");
        assert_eq!(interpolate("SELECT :t", &vars), "SELECT readings");
        assert_eq!(interpolate("SELECT :", &vars), "SELECT :");
        assert!(is_variable_name("a_1") && !is_variable_name("a-b") && !is_variable_name(""));
    }

    #[test]
    fn command_tags_name_what_ran() {
        assert_eq!(command_tag("create table t (a int)"), "CREATE TABLE");
        assert_eq!(
            command_tag("-- c\n/* d */ CREATE OR REPLACE VIEW v AS SELECT 1"),
            "CREATE VIEW"
        );
        assert_eq!(
            command_tag("CREATE EXTERNAL TABLE x STORED AS CSV"),
            "CREATE TABLE"
        );
        assert_eq!(command_tag("drop schema s"), "DROP SCHEMA");
        assert_eq!(command_tag("SET datafusion.x = 1"), "SET");
        assert_eq!(command_tag("  "), "");
        assert_eq!(command_tag("é"), "É");
    }

    #[test]
    fn placeholders_are_found_in_code_only() {
        for sql in [
            "SELECT * FROM t WHERE id = $1",
            "SELECT :name",
            "SELECT ?",
            "SELECT '7'::int + $1",
            "SELECT x::text FROM t WHERE y = :y",
        ] {
            assert!(mentions_parameters(sql), "{sql}");
        }
        for sql in [
            "SELECT '$1', 'a:b'",
            "SELECT 1",
            "SELECT '7'::int",
            "SELECT x::text, y :: int FROM t",
            "SELECT $$ $1 $$, E'\\' $2 ' -- $3\n/* :x /* ? */ */",
            "SELECT `a:b`, \"?\"",
        ] {
            assert!(!mentions_parameters(sql), "{sql}");
        }
    }
}

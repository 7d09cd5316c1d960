//! Splitting SQL scripts into statements at `;`, outside quotes and comments.

/// Splits a script into its statements: each ends at a `;` that is not inside a string
/// (`'...'`), a quoted identifier (`"..."`), a dollar-quoted string (`$tag$...$tag$`) or a
/// comment (`-- ...`, `/* ... */`). Statements are trimmed; empty ones (and comment-only ones)
/// are dropped. The text after the last `;` is returned as the remainder (an unfinished
/// statement, as it is, so that more lines can be appended; empty when it holds no code).
pub fn split(script: &str) -> (Vec<String>, String) {
    let mut statements = Vec::new();
    let mut start = 0;
    let bytes = script.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => i = skip_quoted(bytes, i),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = script[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = script[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            b'$' => i = skip_dollar_quoted(script, i),
            b';' => {
                push(&mut statements, &script[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
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

fn push(statements: &mut Vec<String>, text: &str) {
    let text = text.trim();
    if has_code(text) {
        statements.push(text.to_owned());
    }
}

/// Whether text holds anything besides whitespace and comments.
fn has_code(text: &str) -> bool {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .find('\n')
                .map_or("", |n| &after[n + 1..])
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after
                .find("*/")
                .map_or("", |n| &after[n + 2..])
                .trim_start();
        } else {
            return !rest.is_empty();
        }
    }
}

/// The index after a quoted run starting at `i` (a doubled quote is an escaped quote).
fn skip_quoted(bytes: &[u8], i: usize) -> usize {
    let quote = bytes[i];
    let mut j = i + 1;
    while j < bytes.len() {
        if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    bytes.len()
}

/// The index after a dollar-quoted string starting at `i` (`$$...$$` or `$tag$...$tag$`), or
/// `i + 1` when the `$` starts no such string (e.g. a `$1` placeholder).
fn skip_dollar_quoted(script: &str, i: usize) -> usize {
    let rest = &script[i + 1..];
    let Some(end) = rest.find('$') else {
        return i + 1;
    };
    let tag = &rest[..end];
    if !tag.chars().all(|c| c.is_alphanumeric() || c == '_')
        || tag.starts_with(|c: char| c.is_ascii_digit())
    {
        return i + 1;
    }
    let delimiter = format!("${tag}$");
    let body = i + delimiter.len();
    script[body..]
        .find(&delimiter)
        .map_or(script.len(), |n| body + n + delimiter.len())
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
    fn empty_and_comment_only_statements_are_dropped() {
        let (statements, rest) = split(" ; -- only a comment\n; /* c */ ;\n");
        assert!(statements.is_empty(), "{statements:?}");
        assert_eq!(rest, "");
        let (statements, rest) = split("SELECT 1 -- no semicolon");
        assert!(statements.is_empty());
        assert_eq!(rest, "SELECT 1 -- no semicolon");
    }

    #[test]
    fn unterminated_quotes_never_panic() {
        for script in ["'abc", "\"x", "/* open", "$tag$ open", "$", "--", "é'ü;"] {
            let _ = split(script);
        }
    }
}

//! Hiding secrets in URLs before they appear in messages.

/// A URL with the password of its user-info part and the values of secret-looking query keys
/// (`password`, `token`, `secret`, anything with `auth`, `key`...) replaced by `***`. A query
/// value that is itself a URL (such as the `uri` of an `adbc:` URL, plain or percent-encoded)
/// is shown with its own secrets hidden, the same way.
///
/// Used for every URL that goes into an error message. Works on malformed URLs too.
pub fn redact_url(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    // The user-info ends at the last `@` not inside the query: in a malformed URL a password
    // may hold an unencoded `/`, `?` or `#`, so the usual end of the authority cannot be
    // trusted. (`@` inside a query value comes after `=`.)
    let rest = &url[authority_start..];
    let at = rest
        .match_indices('@')
        .map(|(i, _)| i)
        .rfind(|&i| !rest[..i].contains('=') && !rest[..i].contains('&'))
        .or_else(|| {
            // A password holding an unencoded `=` or `&` (which the rule above takes for a
            // query): a plain user name, then the first `@` before any `/`.
            let (user, after) = rest.split_once(':')?;
            if user.is_empty() || user.contains(['/', '?', '#', '@', '=', '&']) {
                return None;
            }
            let at = after.find('@')?;
            let password = &after[..at];
            // `host:port?key=a@b` is a query's `@`, not a password's end.
            let port_then_query = password
                .split_once('?')
                .is_some_and(|(port, _)| port.chars().all(|c| c.is_ascii_digit()));
            (password.contains(['=', '&']) && !password.contains('/') && !port_then_query)
                .then(|| user.len() + 1 + at)
        });
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..authority_start]);
    let after_userinfo = match at {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            out.push('@');
            &rest[at + 1..]
        }
        None => rest,
    };
    let (head, query) = match after_userinfo.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (after_userinfo, None),
    };
    out.push_str(head);
    if let Some(query) = query {
        out.push('?');
        for (n, pair) in query.split('&').enumerate() {
            if n > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((key, _)) if is_secret_key(key) => {
                    out.push_str(key);
                    out.push_str("=***");
                }
                Some((key, value)) if nests_url(value) => {
                    out.push_str(key);
                    out.push('=');
                    out.push_str(&redact_url(&decode(value)));
                }
                _ => out.push_str(pair),
            }
        }
    }
    out
}

/// Whether a query value holds a URL, plain or percent-encoded.
fn nests_url(value: &str) -> bool {
    value.contains("://") || value.to_ascii_lowercase().contains("%3a%2f%2f")
}

/// A query value with its percent-encoding undone (invalid UTF-8 replaced).
fn decode(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8_lossy()
        .into_owned()
}

/// Whether a URL query key or header name names a secret.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "pwd",
        "token",
        "secret",
        "auth",
        "key",
        "cookie",
        "credential",
        "jwt",
        "session",
        "signature",
        "bearer",
        "assertion",
    ]
    .iter()
    .any(|s| k.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_password_and_token() {
        assert_eq!(
            redact_url("flightsql://u:p4ss@h:1/db?token=abc&tls=false"),
            "flightsql://u:***@h:1/db?token=***&tls=false"
        );
        assert_eq!(
            redact_url("x://h?header.authorization=Bearer%20x"),
            "x://h?header.authorization=***"
        );
        assert_eq!(redact_url("x://u@h"), "x://u@h");
        assert_eq!(redact_url("garbage"), "garbage");
    }

    #[test]
    fn hides_passwords_holding_equals_signs_and_ampersands() {
        for (url, secret) in [
            ("grpc://u:pa=ss@h:1", "pa=ss"),
            ("grpc://u:a&b=c@h:1/db?tls=false", "a&b=c"),
            (
                "flightsql://me:x&token=y@db.example.com:8181?tls=true",
                "x&token=y",
            ),
        ] {
            let shown = redact_url(url);
            assert!(!shown.contains(secret), "{url}: {shown}");
            assert!(shown.contains(":***@"), "{url}: {shown}");
        }
        // A query's `@` is not taken for the end of a password.
        assert_eq!(
            redact_url("grpc://h:1/db?email=a@b"),
            "grpc://h:1/db?email=a@b"
        );
    }

    #[test]
    fn hides_passwords_holding_unencoded_url_delimiters() {
        for (url, secret) in [
            ("flightsql://u:p/ss@h:1?tls=false", "p/ss"),
            ("flightsql://u:p?ss@h:1", "p?ss"),
            ("flightsql://u:p#s/s?x@h:1/db", "p#s/s?x"),
        ] {
            let shown = redact_url(url);
            assert!(!shown.contains(secret), "{url} -> {shown}");
            assert!(shown.starts_with("flightsql://u:***@h:1"), "{shown}");
        }
        assert_eq!(
            redact_url("flightsql://h:1?user=a@b&token=t"),
            "flightsql://h:1?user=a@b&token=***"
        );
    }

    #[test]
    fn hides_the_secrets_of_a_url_inside_a_query_value() {
        assert_eq!(
            redact_url("adbc:postgresql?uri=postgresql://me:s3cret@h:5432/db&x=1"),
            "adbc:postgresql?uri=postgresql://me:***@h:5432/db&x=1"
        );
        let shown = redact_url("adbc:postgresql?uri=postgresql%3A%2F%2Fme%3As3cret%40h%2Fdb");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgresql://me:***@h/db"), "{shown}");
        let shown = redact_url("adbc:x?uri=x://h?password=s3cret");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn secret_names() {
        for key in [
            "x-api-key",
            "authorization",
            "x-jwt",
            "session-id",
            "x-amz-signature",
            "x-bearer",
            "client_assertion",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in ["database", "x-trace", "user-agent"] {
            assert!(!is_secret_key(key), "{key}");
        }
    }
}

//! Hiding secrets in URLs before they appear in messages.

/// A URL with the password of its user-info part and the values of secret-looking query keys
/// (`password`, `token`, `secret`, anything with `auth`, `key`...) replaced by `***`.
///
/// Used for every URL that goes into an error message. Works on malformed URLs too.
pub fn redact_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let mut out = String::with_capacity(url.len());
    // user:password@ in the authority
    let authority_start = head.find("://").map_or(0, |i| i + 3);
    let authority_end = head[authority_start..]
        .find('/')
        .map_or(head.len(), |i| authority_start + i);
    let authority = &head[authority_start..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            out.push_str(&head[..authority_start]);
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            out.push_str(&head[authority_start + at..]);
        }
        None => out.push_str(head),
    }
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
                _ => out.push_str(pair),
            }
        }
    }
    out
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
}

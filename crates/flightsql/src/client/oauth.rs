//! OAuth 2 bearer tokens asked of a token endpoint and refreshed before they expire.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use dbapi::{Error, Result};
use http_body_util::Full;
use url::Url;

use crate::client::credentials::{self, Destination};
use crate::config::{Config, Limits, OAuth, USER_AGENT};
use crate::transport::{http_client_config, http_connect, read_bounded};

/// How long a token request may take when neither `connect_timeout` nor `timeout` says.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Lifetimes are taken between these bounds: a token said to live less (`expires_in: 0`) is
/// still not asked for again within a quarter of a second.
const MIN_LIFETIME: Duration = Duration::from_millis(500);
const MAX_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// The lifetime of a token from the `expires_in` of its answer (seconds, a number or a
/// numeric string): `None` when absent.
///
/// # Errors
/// For a value that is not a non-negative number.
fn lifetime(expires_in: &serde_json::Value) -> std::result::Result<Option<Duration>, String> {
    let seconds = match expires_in {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds {
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(
            Duration::try_from_secs_f64(s).map_or(MAX_LIFETIME, |d| d.min(MAX_LIFETIME)),
        )),
        _ => Err(format!(
            "the answer's expires_in ({}) is not a number of seconds",
            expires_in.to_string().chars().take(40).collect::<String>()
        )),
    }
}

/// When to ask for the next token (the token itself is in the call headers).
struct Current {
    refresh_at: Option<Instant>,
}

/// The token and its lifetime in a token endpoint's answer (`status`, `body`), or what is
/// wrong with it.
fn token_of(status: u16, body: &[u8]) -> std::result::Result<(String, Option<Duration>), String> {
    let json = crate::decode::json(body).map_err(|why| format!("HTTP {status}: {why}"))?;
    if !(200..300).contains(&status) {
        let code = json["error"].as_str().unwrap_or("unknown error");
        let description = json["error_description"].as_str().unwrap_or("");
        return Err(format!("HTTP {status}: {code} {description}"));
    }
    let token = json["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or("the answer has no access_token")?
        .to_owned();
    if let Some(kind) = json["token_type"].as_str()
        && !kind.eq_ignore_ascii_case("bearer")
        && !kind.eq_ignore_ascii_case("n_a")
    {
        return Err(format!(
            "the token type is {kind:?}; only bearer tokens can be sent"
        ));
    }
    let lifetime = lifetime(&json["expires_in"])?;
    Ok((token, lifetime))
}

/// Obtains tokens and keeps the current one fresh.
pub(crate) struct TokenSource {
    oauth: OAuth,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    current: tokio::sync::Mutex<Option<Current>>,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("oauth", &self.oauth)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// `tls`: the connection's TLS settings for HTTP/1.1.
    /// The token source of a configuration's OAuth settings. Its TLS settings are those of
    /// plain HTTP requests (always verified, no client certificate).
    pub(crate) fn new(config: &Config, oauth: &OAuth) -> Result<TokenSource> {
        Ok(TokenSource {
            oauth: oauth.clone(),
            tls: Arc::new(http_client_config(config)?),
            timeout: config
                .connect_timeout()
                .or(config.timeout())
                .unwrap_or(DEFAULT_TIMEOUT),
            current: tokio::sync::Mutex::new(None),
        })
    }

    /// The token to send: the current one, or a new one when it is about to expire.
    /// `Some` only when a new token was obtained.
    pub(crate) async fn refresh_if_needed(&self) -> Result<Option<String>> {
        let mut current = self.current.lock().await;
        if let Some(c) = current.as_ref()
            && c.refresh_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(None);
        }
        let (token, lifetime) = self.request().await?;
        let refresh_at = lifetime.map(|l| {
            // Ask again a little before it expires: 30 s, or half the lifetime of short ones;
            // never sooner than MIN_LIFETIME / 2 (a server answering `expires_in: 0` is not
            // asked again before every call).
            let l = l.clamp(MIN_LIFETIME, MAX_LIFETIME);
            let margin = (l / 2).min(Duration::from_secs(30));
            Instant::now() + (l - margin)
        });
        tracing::debug!(
            token_uri = %self.oauth.token_uri,
            expires_in_s = lifetime.map(|l| l.as_secs_f64()),
            "obtained an OAuth token"
        );
        *current = Some(Current { refresh_at });
        Ok(Some(token))
    }

    /// One token request: the token and its lifetime.
    async fn request(&self) -> Result<(String, Option<Duration>)> {
        let what = format!("OAuth token request to {}", self.oauth.token_uri);
        let fail = |text: String| Error::operational(format!("{what}: {text}")).auth();
        let t = self.timeout;
        let (status, body) = tokio::time::timeout(t, self.post())
            .await
            .map_err(|_| fail(format!("no answer within {t:?}")).timeout())??;
        token_of(status, &body).map_err(fail)
    }

    /// POSTs the form to the token endpoint: the status and the body.
    async fn post(&self) -> Result<(u16, Bytes)> {
        let what = format!("OAuth token request to {}", self.oauth.token_uri);
        let uri = Url::parse(&self.oauth.token_uri)
            .map_err(|e| Error::interface(format!("{what}: {e}")))?;
        // The policy decides whether the grant's secrets may go there.
        credentials::allow(&self.oauth.carried(), &Destination::token_endpoint(&uri)?)?;
        let (mut sender, authority, path) = http_connect(&self.tls, &uri, &what).await?;
        let mut request = http::Request::post(path)
            .header(http::header::HOST, authority)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::USER_AGENT, USER_AGENT);
        if let (Some(id), Some(secret)) = (&self.oauth.client_id, &self.oauth.client_secret) {
            // RFC 6749 §2.3.1: both form-encoded, then Basic.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                enc(id),
                enc(secret.expose())
            ));
            let mut value = http::HeaderValue::from_str(&format!("Basic {basic}"))
                .map_err(|_| Error::interface("the OAuth client id is not valid in a header"))?;
            value.set_sensitive(true);
            request = request.header(http::header::AUTHORIZATION, value);
        }
        let request = request
            .body(Full::new(Bytes::from(self.oauth.form())))
            .map_err(|e| Error::interface(format!("{what}: {e}")))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| Error::operational(format!("{what}: {e}")).connection())?;
        let status = response.status().as_u16();
        let (body, more) =
            read_bounded(response.into_body(), Limits::TOKEN_ANSWER, None, &what).await?;
        if more {
            return Err(Error::operational(format!(
                "{what}: HTTP {status}: the answer is longer than {} bytes",
                Limits::TOKEN_ANSWER
            ))
            .auth());
        }
        Ok((status, Bytes::from(body)))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
            ..ProptestConfig::default()
        })]

        /// A token endpoint's answers, valid ones mutated and any text at all: a token or a
        /// reason, never a panic; a token is never empty.
        #[test]
        fn token_answers_give_a_token_or_a_reason(
            status in prop_oneof![Just(200_u16), 100_u16..600],
            token in "[ -~]{0,40}",
            kind in prop_oneof![Just("Bearer".to_owned()), "[ -~]{0,10}"],
            expires in prop_oneof![
                any::<i64>().prop_map(|n| n.to_string()),
                any::<f64>().prop_map(|n| format!("{n:?}")),
                "\"[ -~]{0,12}\"",
                Just("null".to_owned()),
            ],
            cut in any::<usize>(),
            noise in "[ -~]{0,64}",
        ) {
            let answer = format!(
                r#"{{"access_token":{},"token_type":{},"expires_in":{expires}}}"#,
                serde_json::Value::from(token.clone()),
                serde_json::Value::from(kind)
            );
            if let Ok((got, _)) = token_of(status, answer.as_bytes()) {
                prop_assert_eq!(&got, &token);
                prop_assert!(!got.is_empty());
            }
            let cut = cut % (answer.len() + 1);
            let _ = token_of(status, &answer.as_bytes()[..cut]);
            let _ = token_of(status, noise.as_bytes());
        }
    }

    #[test]
    fn lifetimes_are_range_checked() {
        use serde_json::json;
        assert_eq!(lifetime(&json!(null)), Ok(None));
        assert_eq!(lifetime(&json!(3600)), Ok(Some(Duration::from_secs(3600))));
        assert_eq!(lifetime(&json!("60")), Ok(Some(Duration::from_secs(60))));
        assert_eq!(lifetime(&json!(1e20)), Ok(Some(MAX_LIFETIME)));
        assert_eq!(lifetime(&json!(0)), Ok(Some(Duration::ZERO)));
        for bad in [json!(-5), json!("soon"), json!([1]), json!(true)] {
            let e = lifetime(&bad).unwrap_err();
            assert!(e.contains("expires_in"), "{e}");
        }
    }
}

//! Named connection profiles in a TOML file: `$DBAPI_CONFIG`, else
//! `$XDG_CONFIG_HOME/dbapi/config.toml`, else `~/.config/dbapi/config.toml`.
//!
//! ```toml
//! [profiles.prod]
//! url = "flightsql://db.example.com:443?database=sensors"
//! token_command = "pass show db/prod"   # its standard output is the token
//! format = "csv"                        # output defaults: format, null, ascii, expanded
//! ```
//!
//! The file is only read: nothing is written back, and a token never appears in a message.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::output::Format;

/// The file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// One profile.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The connection URL.
    pub url: Option<String>,
    /// A command (run by `sh -c`) whose standard output, trimmed, is the token.
    pub token_command: Option<String>,
    /// The output format.
    pub format: Option<Format>,
    /// How NULL is written.
    pub null: Option<String>,
    /// ASCII table borders.
    pub ascii: Option<bool>,
    /// Expanded display.
    pub expanded: Option<bool>,
}

/// Where the file is.
fn path() -> Option<PathBuf> {
    let from = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from("DBAPI_CONFIG")
        .or_else(|| from("XDG_CONFIG_HOME").map(|d| d.join("dbapi/config.toml")))
        .or_else(|| from("HOME").map(|h| h.join(".config/dbapi/config.toml")))
}

/// A parse error of the config file as it may be shown: where it is and what is wrong, without
/// the line itself or the value on it (the line may be `token = "..."`).
fn parse_error(text: &str, e: &toml::de::Error) -> String {
    let mut message = e.message().replace('\n', "; ");
    let Some(span) = e.span() else {
        return message;
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_number = before.matches('\n').count() + 1;
    let column = before.len() - line_start + 1;
    let line = text[line_start..].lines().next().unwrap_or_default();
    if let Some((_, value)) = line.split_once('=') {
        // Messages quote the values they show (`x`, "x" or 'x').
        let value = value.trim().trim_matches(['"', '\'']);
        if !value.is_empty() {
            for quote in ['`', '"', '\''] {
                message = message.replace(&format!("{quote}{value}{quote}"), "...");
            }
        }
    }
    format!("line {line_number}, column {column}: {message}")
}

/// The profile `name` from the file.
///
/// # Errors
/// No file, a file that is not valid (the message names the line), or no such profile (the
/// message lists those there are).
pub fn load(name: &str) -> Result<Profile, String> {
    let path = path().ok_or("--profile: no config file (set DBAPI_CONFIG or HOME)")?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("--profile {name}: cannot read {}: {e}", path.display()))?;
    let mut file: File = toml::from_str(&text)
        .map_err(|e| format!("{}: {}", path.display(), parse_error(&text, &e)))?;
    file.profiles.remove(name).ok_or_else(|| {
        let known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
        format!(
            "no profile {name:?} in {} (it has: {})",
            path.display(),
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )
    })
}

/// Runs a profile's `token_command` and returns what it prints, trimmed.
///
/// # Errors
/// When it cannot run, fails, or prints nothing; its output is never part of the message.
pub fn run_token_command(command: &str) -> Result<String, String> {
    let out = std::process::Command::new("sh")
        .args(["-c", command])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("token_command: cannot run sh: {e}"))?;
    if !out.status.success() {
        return Err(format!("token_command failed ({})", out.status));
    }
    let token = String::from_utf8(out.stdout)
        .map_err(|_| "token_command printed something that is not UTF-8".to_owned())?;
    let token = token.trim();
    if token.is_empty() {
        return Err("token_command printed no token".to_owned());
    }
    Ok(token.to_owned())
}

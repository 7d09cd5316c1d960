//! Integration tests live in `it/`. The READMEs' examples (the workspace's and each crate's) run here, so that they stay
//! true to the API.

pub mod adbc;

/// Percent-encodes everything but letters and digits (inline PEM, URLs inside URL options).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeExamples;

#[doc = include_str!("../../crates/dbapi/README.md")]
#[cfg(doctest)]
pub struct DbapiReadme;

#[doc = include_str!("../../crates/derive/README.md")]
#[cfg(doctest)]
pub struct DeriveReadme;

#[doc = include_str!("../../crates/flightsql/README.md")]
#[cfg(doctest)]
pub struct FlightSqlReadme;

#[doc = include_str!("../../crates/adbc/README.md")]
#[cfg(doctest)]
pub struct AdbcReadme;

#[doc = include_str!("../../crates/server/README.md")]
#[cfg(doctest)]
pub struct ServerReadme;

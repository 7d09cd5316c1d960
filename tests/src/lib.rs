//! Integration tests live in `it/`. The READMEs' examples (the workspace's and each crate's) run here, so that they stay
//! true to the API.

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

#[doc = include_str!("../../crates/server/README.md")]
#[cfg(doctest)]
pub struct ServerReadme;

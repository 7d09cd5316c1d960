//! `--demo`: the bundled Flight SQL server with its demo tables, in-process. It links
//! DataFusion, so it is a cargo feature (`demo`): `cargo install dbapi-cli --features demo`,
//! or `cargo run -p dbapi-cli --features demo -- --demo` in the repository (`cargo demo`).

use crate::BoxError;

/// The running demo server; stops when dropped.
#[cfg(feature = "demo")]
pub struct Demo(dbapi_flightsql_server::Server);

#[cfg(feature = "demo")]
impl Demo {
    /// Its URL.
    pub fn url(&self) -> String {
        self.0.url()
    }
}

/// Starts the demo server on 127.0.0.1.
#[cfg(feature = "demo")]
pub async fn start() -> Result<Demo, BoxError> {
    Ok(Demo(
        dbapi_flightsql_server::Server::builder()
            .demo()
            .start()
            .await?,
    ))
}

/// The demo server, left out of this build.
#[cfg(not(feature = "demo"))]
pub enum Demo {}

#[cfg(not(feature = "demo"))]
impl Demo {
    /// Its URL (there is none: no value of this type exists).
    pub fn url(&self) -> String {
        match *self {}
    }
}

/// Says that this build has no demo server, and how to get one.
#[cfg(not(feature = "demo"))]
pub async fn start() -> Result<Demo, BoxError> {
    Err(
        "--demo: this build of dbapi leaves the demo server out (it links DataFusion); \
         install with `cargo install dbapi-cli --features demo`, or in the repository run \
         `cargo run -p dbapi-cli --features demo -- --demo` (or `cargo demo`)"
            .into(),
    )
}

//! `dbapi-flightsql-server`: the bundled Flight SQL server as a program.

use std::net::SocketAddr;

use clap::Parser;
use dbapi_flightsql_server::{Auth, BoxError, Options, Server, generated};

/// A Flight SQL server on DataFusion serving the demo `readings` table (and optionally a
/// generated `numbers` table), for trying out clients.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8181")]
    addr: SocketAddr,
    /// Also serve a generated table `numbers` with this many rows (id, value, name, ts).
    #[arg(long, value_name = "ROWS")]
    generate: Option<usize>,
    /// Split every result into this many endpoints.
    #[arg(long, default_value_t = 1)]
    endpoints: usize,
    /// Require this bearer token.
    #[arg(long, conflicts_with = "user")]
    token: Option<String>,
    /// Require a Basic handshake with this user (with --password).
    #[arg(long, requires = "password")]
    user: Option<String>,
    /// The password for --user.
    #[arg(long, requires = "user")]
    password: Option<String>,
    /// Require a header on every call, as NAME=VALUE (e.g. database=sensors).
    #[arg(long, value_name = "NAME=VALUE")]
    require_header: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let auth = match (args.token, args.user, args.password) {
        (Some(token), _, _) => Auth::Bearer(token),
        (None, Some(username), Some(password)) => Auth::Basic { username, password },
        _ => Auth::None,
    };
    let required_header = match args.require_header {
        None => None,
        Some(spec) => {
            let (name, value) = spec
                .split_once('=')
                .ok_or("--require-header takes NAME=VALUE")?;
            Some((name.to_ascii_lowercase(), value.to_owned()))
        }
    };
    let mut builder = Server::builder().demo().addr(args.addr).options(Options {
        endpoints: args.endpoints,
        auth,
        required_header,
        ..Options::default()
    });
    if let Some(rows) = args.generate {
        builder = builder.table("numbers", generated(rows, 8192)?);
    }
    let server = builder.start().await?;
    println!("Flight SQL server listening on {}", server.addr());
    println!("connect with: {}", server.url());
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}

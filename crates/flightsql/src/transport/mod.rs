//! Layer 2: bytes to and from other machines. Owns gRPC channels (`channel.rs`: TCP or Unix
//! socket, HTTP/2 settings), TLS settings (`tls.rs`), plain HTTP/1.1 requests (`http.rs`: OAuth
//! token requests and `http(s)://` locations, with bounded reads of error bodies), time limits
//! (`deadline.rs`), the remembered-dead list of addresses (`health.rs`), OpenTelemetry (`telemetry.rs`), and the explanation of failures: TLS and connection problems
//! (`explain.rs`) and the one table mapping gRPC statuses to errors (`status.rs`). Knows
//! nothing of Flight SQL; imports only `config`.

mod channel;
mod deadline;
mod explain;
pub(crate) mod health;
mod http;
mod status;
pub(crate) mod telemetry;
mod tls;

pub(crate) use self::channel::{Address, Failure, Target, open_channel};
pub(crate) use self::deadline::{runtime, within};
pub(crate) use self::http::connect as http_connect;
pub(crate) use self::http::{
    HttpBody, HttpTimeouts, get_stream, is_http_location, read_bounded, shown,
};
pub(crate) use self::status::{Transport, from_status, from_status_explained};
pub use self::status::{grpc_code, kind_of};
pub(crate) use self::tls::{Tls, http_client_config};

//! Layer 5: reading a result. Owns the lazy, ordered reading of every endpoint of a
//! `FlightInfo` with bounded read-ahead, retries and renewals (`endpoints.rs`), and the
//! endpoints a polled query adds with its progress (`poll.rs`). Imports `client`, `decode`
//! and `transport`.

mod endpoints;
mod poll;

pub(crate) use self::endpoints::{EndpointStream, Source, cancelled};
pub(crate) use self::poll::{Poller, progress};

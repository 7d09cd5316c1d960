//! Tickets as URLs: where the HTTP instance serves a ticket, and the mark of a `DoGet` made on
//! behalf of such a URL. Shared by the service (which hands the URLs out) and the HTTP
//! instance (which serves them).

use base64::Engine as _;

/// Marks a `DoGet` made on behalf of an HTTP location: the URL authorised it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Presigned;

/// The path prefix of ticket URLs.
pub(crate) const TICKET_PATH: &str = "/ticket/";

/// The media type of an Arrow IPC stream.
pub(crate) const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

/// The location of a ticket on the HTTP instance at `base` (`http://host:port`).
pub(crate) fn ticket_url(base: &str, ticket: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ticket);
    format!("{base}{TICKET_PATH}{encoded}")
}

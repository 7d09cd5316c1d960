//! Layer 3: every byte a server sends that Arrow decodes. Owns the one guard (`guard.rs`:
//! each IPC message checked before decoding — body, buffers, declared and real decompressed
//! sizes, dictionaries grown by deltas, and the layout of each batch's nodes and buffers
//! against the stream's schema in `layout.rs` — and the one schema decoder that cannot
//! panic), the protobuf and JSON answers (`answers.rs`), the framing of IPC streams read
//! over HTTP into the messages a `DoGet` carries (`framing.rs`), the result stream reader
//! both feed (`stream.rs`), Arrow IPC files read through the same guard (`file.rs`), and the column descriptions read from Flight SQL field metadata
//! (`columns.rs`). Imports `transport` and `config` only.

mod answers;
mod columns;
mod file;
mod framing;
mod guard;
mod layout;
mod stream;

pub(crate) use self::answers::{json, packed, protobuf};
pub(crate) use self::columns::{describe, keys};
pub use self::file::IpcFileReader;
pub(crate) use self::guard::schema;
pub use self::stream::FlightStreamReader;
pub(crate) use self::stream::StreamItem;
pub(crate) use crate::config::Limits;

//! The Arrow IPC stream format cut into messages: what an `http(s)://` location answers,
//! turned into the same `FlightData` messages a `DoGet` carries, so that both go through one
//! guard and one decoder.
//!
//! Each message is a length prefix (`0xFFFFFFFF` then a 32-bit length, or the older bare
//! length), a flatbuffer `Message` header of that length, and the body its header declares.
//! A length of 0 ends the stream. Neither length is believed beyond `max_message_size`, so
//! what is buffered stays bounded whatever the body says.

use arrow_flight::FlightData;
use bytes::{Buf, Bytes, BytesMut};
use dbapi::{Error, Result};
use futures::Stream;
use futures::stream::BoxStream;

use crate::config::Limits;

/// Where the chunks of an IPC stream come from.
pub(crate) type Chunks = BoxStream<'static, Result<Bytes>>;

/// What the buffer holds at its front.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Not enough bytes to tell.
    NeedMore,
    /// The end-of-stream marker.
    End,
    /// A whole message: the prefix, header and body lengths.
    Message {
        prefix: usize,
        header: usize,
        body: usize,
    },
}

/// Reads the front of `buf`; errors for lengths that are negative or beyond the limit.
fn next(buf: &[u8], limits: Limits, what: &str) -> Result<Next> {
    let Some(first) = buf.get(..4) else {
        return Ok(Next::NeedMore);
    };
    let first = u32::from_le_bytes([first[0], first[1], first[2], first[3]]);
    let (prefix, length) = if first == 0xFFFF_FFFF {
        let Some(len) = buf.get(4..8) else {
            return Ok(Next::NeedMore);
        };
        (8, i32::from_le_bytes([len[0], len[1], len[2], len[3]]))
    } else {
        (4, first as i32)
    };
    if length == 0 {
        return Ok(Next::End);
    }
    let header = usize::try_from(length).map_err(|_| {
        Error::internal(format!(
            "{what}: cannot decode the Arrow IPC stream: a message header declares a length of \
             {length}"
        ))
    })?;
    if header > limits.max_message_size {
        return Err(too_large(what, limits));
    }
    let Some(bytes) = buf.get(prefix..prefix + header) else {
        return Ok(Next::NeedMore);
    };
    let message = arrow::ipc::root_as_message(bytes).map_err(|e| {
        Error::internal(format!(
            "{what}: cannot decode the Arrow IPC stream: invalid message header: {e}"
        ))
    })?;
    let body = usize::try_from(message.bodyLength()).map_err(|_| {
        Error::internal(format!(
            "{what}: cannot decode the Arrow IPC stream: a message declares a body of {} bytes",
            message.bodyLength()
        ))
    })?;
    if body > limits.max_message_size || header + body > limits.max_message_size {
        return Err(too_large(what, limits));
    }
    if buf.len() < prefix + header + body {
        return Ok(Next::NeedMore);
    }
    Ok(Next::Message {
        prefix,
        header,
        body,
    })
}

fn too_large(what: &str, limits: Limits) -> Error {
    Error::data(format!(
        "{what}: a message of the Arrow IPC stream is larger than max_message_size ({} bytes); \
         raise the URL option max_message_size (e.g. max_message_size=256MiB)",
        limits.max_message_size
    ))
}

struct State {
    chunks: Chunks,
    buf: BytesMut,
    limits: Limits,
    what: String,
}

/// The messages of an IPC stream read from `chunks`, as `FlightData`. `what` starts the
/// errors (e.g. `reading https://host/path?...`).
pub(crate) fn messages(
    chunks: Chunks,
    limits: Limits,
    what: String,
) -> impl Stream<Item = Result<FlightData>> + Send + 'static {
    let state = State {
        chunks,
        buf: BytesMut::new(),
        limits,
        what,
    };
    futures::stream::try_unfold(state, |mut state| async move {
        use futures::StreamExt;
        loop {
            match next(&state.buf, state.limits, &state.what)? {
                Next::End => return Ok(None),
                Next::Message {
                    prefix,
                    header,
                    body,
                } => {
                    state.buf.advance(prefix);
                    let data_header = state.buf.split_to(header).freeze();
                    let data_body = state.buf.split_to(body).freeze();
                    let data = FlightData {
                        data_header,
                        data_body,
                        ..FlightData::default()
                    };
                    return Ok(Some((data, state)));
                }
                Next::NeedMore => match state.chunks.next().await.transpose()? {
                    Some(chunk) => state.buf.extend_from_slice(&chunk),
                    // A stream may end without its end marker, but not inside a message.
                    None if state.buf.is_empty() => return Ok(None),
                    None => {
                        return Err(Error::operational(format!(
                            "{}: the Arrow IPC stream is truncated: {} bytes of an unfinished \
                             message",
                            state.what,
                            state.buf.len()
                        ))
                        .connection());
                    }
                },
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_message_size: 1 << 20,
        max_decoded_size: 1 << 20,
        max_batch_rows: 1 << 20,
    };

    #[test]
    fn prefixes_and_the_end_marker() {
        assert_eq!(next(&[], LIMITS, "x").unwrap(), Next::NeedMore);
        assert_eq!(next(&[0xff; 6], LIMITS, "x").unwrap(), Next::NeedMore);
        assert_eq!(
            next(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], LIMITS, "x").unwrap(),
            Next::End
        );
        assert_eq!(next(&[0, 0, 0, 0], LIMITS, "x").unwrap(), Next::End);
        let e = next(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x80], LIMITS, "x").unwrap_err();
        assert!(e.to_string().contains("length of -2147483648"), "{e}");
        let e = next(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x10], LIMITS, "x").unwrap_err();
        assert_eq!(e.kind(), dbapi::ErrorKind::Data);
        assert!(e.to_string().contains("max_message_size"), "{e}");
    }
}

//! Every limit on what a server's answer may hold, in one place: the ones URL keys set (an
//! Arrow IPC message's size on the wire and decoded, a batch's rows) and the fixed ones (the
//! results of an action, a token endpoint's answer, an HTTP error body).

/// How much one message may hold: on the wire, and decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The largest message body accepted (URL key `max_message_size`).
    pub(crate) max_message_size: usize,
    /// The largest decoded size of a message's buffers, after decompression (URL key
    /// `max_decoded_size`).
    pub(crate) max_decoded_size: usize,
    /// The largest row count of a batch, and the largest length of an array whose type needs
    /// no bytes per value (URL key `max_batch_rows`).
    pub(crate) max_batch_rows: usize,
}

impl Limits {
    /// The most bytes of results one `DoAction` or `DoPut` call may return (each result
    /// counted with its overhead).
    pub(crate) const ACTION_RESULTS: usize = 16 << 20;

    /// The longest answer a token endpoint may give.
    pub(crate) const TOKEN_ANSWER: usize = 64 << 10;

    /// The most bytes of an HTTP error answer read (to quote it in the error).
    pub(crate) const ERROR_BODY: usize = 16 << 10;

    /// The limits a configuration sets.
    pub(crate) fn of(config: &crate::config::Config) -> Limits {
        Limits {
            max_message_size: config.max_message_size(),
            max_decoded_size: config.max_decoded_size(),
            max_batch_rows: config.max_batch_rows(),
        }
    }
}

//! The one error type of the core, with PEP 249 error kinds.

use std::error::Error as StdError;
use std::fmt;

/// A specialised `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The boxed cause of an [`Error`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The PEP 249 category of an [`Error`].
///
/// PEP 249 defines a small hierarchy of exceptions; every error of this crate and of its drivers
/// falls into exactly one of these kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A misuse of the database interface itself: a malformed URL, an unknown scheme or option,
    /// a closed cursor or connection, a fetch before `execute`.
    Interface,
    /// An error reported by the database that fits no narrower kind.
    Database,
    /// A problem with processed data: a value out of range, a value that cannot be converted
    /// to the requested type.
    Data,
    /// An error in the database's operation that is not the programmer's fault: lost
    /// connection, timeout, failed authentication, unavailable server.
    Operational,
    /// The relational integrity of the database is affected, e.g. a foreign key check fails.
    Integrity,
    /// The database or driver met an internal error: a corrupt stream, an invariant broken.
    Internal,
    /// A programming error: a SQL syntax error, a missing table, a wrong number of parameters.
    Programming,
    /// A method or feature that the driver or the database does not support.
    NotSupported,
}

impl ErrorKind {
    /// The PEP 249 exception name of this kind, e.g. `"OperationalError"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Interface => "InterfaceError",
            ErrorKind::Database => "DatabaseError",
            ErrorKind::Data => "DataError",
            ErrorKind::Operational => "OperationalError",
            ErrorKind::Integrity => "IntegrityError",
            ErrorKind::Internal => "InternalError",
            ErrorKind::Programming => "ProgrammingError",
            ErrorKind::NotSupported => "NotSupportedError",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What else is known about an error, for the predicates on [`Error`]: a set of bits, so
/// that an error can be both a connection failure and a timeout.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
struct Flags(u8);

impl Flags {
    const TIMEOUT: u8 = 1;
    const AUTH: u8 = 2;
    const CONNECTION: u8 = 4;
    const CANCELLED: u8 = 8;
    const TRANSIENT: u8 = 16;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Flags::TIMEOUT, "timeout"),
            (Flags::AUTH, "auth"),
            (Flags::CONNECTION, "connection"),
            (Flags::CANCELLED, "cancelled"),
            (Flags::TRANSIENT, "transient"),
        ];
        f.debug_list()
            .entries(
                names
                    .iter()
                    .filter(|(bit, _)| self.has(*bit))
                    .map(|(_, n)| n),
            )
            .finish()
    }
}

struct Inner {
    kind: ErrorKind,
    flags: Flags,
    message: String,
    code: Option<String>,
    source: Option<BoxError>,
}

/// A message as every error holds it: NUL bytes and control characters other than line breaks
/// and tabs (which a server, a file or a driver may put in a message) escaped as `\u{..}`, so
/// that the text survives a C string and a terminal intact.
fn printable(message: String) -> String {
    let bad = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !message.chars().any(bad) {
        return message;
    }
    let mut out = String::with_capacity(message.len() + 8);
    for c in message.chars() {
        if bad(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// The error type of `dbapi` and its drivers.
///
/// An `Error` is opaque and one pointer wide. It carries:
/// - a PEP 249 [`ErrorKind`], from [`Error::kind`];
/// - a message saying what failed, with context, shown by `Display`;
/// - optionally a driver-specific code ([`Error::code`]), such as a gRPC status code name;
/// - optionally the underlying cause, reachable only through [`std::error::Error::source`]
///   (it is never repeated in `Display`).
pub struct Error {
    inner: Box<Inner>,
}

impl Error {
    /// Creates an error of the given kind with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                flags: Flags::default(),
                message: printable(message.into()),
                code: None,
                source: None,
            }),
        }
    }

    /// An [`ErrorKind::Interface`] error.
    pub fn interface(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Interface, message)
    }

    /// An [`ErrorKind::Data`] error.
    pub fn data(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Data, message)
    }

    /// An [`ErrorKind::Operational`] error.
    pub fn operational(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Operational, message)
    }

    /// An [`ErrorKind::Internal`] error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// An [`ErrorKind::Programming`] error.
    pub fn programming(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Programming, message)
    }

    /// An [`ErrorKind::NotSupported`] error; the message says what is not supported.
    pub fn not_supported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotSupported, message)
    }

    /// Sets the underlying cause, reachable through `source()`.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Sets a driver-specific code, such as the name of a gRPC status code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.inner.code = Some(printable(code.into()));
        self
    }

    /// Marks the error as a timeout (see [`Error::is_timeout`]).
    pub fn timeout(self) -> Self {
        self.flag(Flags::TIMEOUT)
    }

    /// Marks the error as an authentication or authorisation failure (see [`Error::is_auth`]).
    pub fn auth(self) -> Self {
        self.flag(Flags::AUTH)
    }

    /// Marks the error as a failure to reach or keep a connection (see
    /// [`Error::is_connection`]).
    pub fn connection(self) -> Self {
        self.flag(Flags::CONNECTION)
    }

    /// Marks the error as the result of a cancellation (see [`Error::is_cancelled`]).
    pub fn cancelled(self) -> Self {
        self.flag(Flags::CANCELLED)
    }

    /// Marks the error as transient (see [`Error::is_transient`]).
    pub fn transient(self) -> Self {
        self.flag(Flags::TRANSIENT)
    }

    fn flag(mut self, bit: u8) -> Self {
        self.inner.flags.0 |= bit;
        self
    }

    /// Prefixes the message with context, e.g. `"endpoint 2 of 3"`.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.inner.message = printable(format!("{context}: {}", self.inner.message));
        self
    }

    /// The PEP 249 kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message, without the kind and without the cause.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The driver-specific code, if any (for Flight SQL: the gRPC status code name, such as
    /// `"Unauthenticated"`).
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }

    /// Whether a deadline or timeout expired.
    pub fn is_timeout(&self) -> bool {
        self.inner.flags.has(Flags::TIMEOUT)
    }

    /// Whether authentication or authorisation failed.
    pub fn is_auth(&self) -> bool {
        self.inner.flags.has(Flags::AUTH)
    }

    /// Whether the connection could not be made or was lost.
    pub fn is_connection(&self) -> bool {
        self.inner.flags.has(Flags::CONNECTION)
    }

    /// Whether the operation was cancelled through a [`CancelToken`](crate::CancelToken) (a
    /// server that answers `CANCELLED` on its own gives an
    /// [`Operational`](ErrorKind::Operational) error without this flag).
    pub fn is_cancelled(&self) -> bool {
        self.inner.flags.has(Flags::CANCELLED)
    }

    /// Whether the same call may succeed if tried again: the server was unavailable
    /// (`UNAVAILABLE`, a proxy's 502, 503 or 504), or the connection was refused, reset or
    /// closed (`GOAWAY`) under the call. Drivers retry what is safe to repeat themselves
    /// (see their retry options); a caller retrying on its own should only repeat statements
    /// that are safe to run twice, and never inside a transaction.
    pub fn is_transient(&self) -> bool {
        self.inner.flags.has(Flags::TRANSIENT)
    }

    /// Whether the driver or server does not support what was asked.
    pub fn is_not_supported(&self) -> bool {
        self.inner.kind == ErrorKind::NotSupported
    }

    /// Whether the error is a misuse of the interface (closed cursor, bad URL...).
    pub fn is_interface(&self) -> bool {
        self.inner.kind == ErrorKind::Interface
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(code) = &self.inner.code {
            d.field("code", code);
        }
        if self.inner.flags != Flags::default() {
            d.field("flags", &self.inner.flags);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.inner.kind, self.inner.message)
    }
}

/// An error and its causes as text, each cause printed once: `Display` writes the error, then
/// one `caused by: ...` line per cause whose text was not already printed (an error's cause
/// often repeats what its message says). `{:#}` writes it all on one line, causes joined
/// with `: `.
///
/// ```
/// let io = std::io::Error::other("connection refused");
/// let e = dbapi::Error::operational("cannot connect to db:8181").with_source(io);
/// assert_eq!(
///     e.report().to_string(),
///     "OperationalError: cannot connect to db:8181\n  caused by: connection refused"
/// );
/// assert_eq!(
///     format!("{:#}", e.report()),
///     "OperationalError: cannot connect to db:8181: connection refused"
/// );
/// ```
#[derive(Clone, Copy)]
pub struct Report<'a>(&'a (dyn StdError + 'static));

impl<'a> Report<'a> {
    /// The report of any error.
    pub fn new(error: &'a (dyn StdError + 'static)) -> Report<'a> {
        Report(error)
    }

    /// The text of each line: the error, then each cause not already said.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.0.to_string()];
        let mut next = self.0.source();
        while let Some(cause) = next {
            let text = match cause.downcast_ref::<Error>() {
                Some(e) => e.message().to_owned(),
                None => cause.to_string(),
            };
            let text = text.trim().to_owned();
            if !text.is_empty() && !lines.iter().any(|l| l.contains(&text)) {
                lines.push(text);
            }
            next = cause.source();
        }
        lines
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = self.lines();
        let separator = if f.alternate() {
            ": "
        } else {
            "\n  caused by: "
        };
        f.write_str(&lines.join(separator))
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Error {
    /// This error and its causes, each printed once (see [`Report`]).
    pub fn report(&self) -> Report<'_> {
        Report(self)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn StdError + 'static))
    }
}

impl From<arrow::error::ArrowError> for Error {
    fn from(e: arrow::error::ArrowError) -> Self {
        use arrow::error::ArrowError as A;
        let kind = match &e {
            A::CastError(_)
            | A::ParseError(_)
            | A::ComputeError(_)
            | A::DivideByZero
            | A::ArithmeticOverflow(_)
            | A::InvalidArgumentError(_) => ErrorKind::Data,
            A::NotYetImplemented(_) => ErrorKind::NotSupported,
            A::IoError(..) => ErrorKind::Operational,
            _ => ErrorKind::Internal,
        };
        Error::new(kind, "Arrow error").with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }

    #[test]
    fn display_does_not_repeat_the_source() {
        let cause = std::io::Error::other("connection reset by peer");
        let e =
            Error::operational("endpoint 2 of 3: location grpc://a:1 failed").with_source(cause);
        let shown = e.to_string();
        assert_eq!(
            shown,
            "OperationalError: endpoint 2 of 3: location grpc://a:1 failed"
        );
        assert!(!shown.contains("reset"));
        assert_eq!(
            e.source().map(|s| s.to_string()).as_deref(),
            Some("connection reset by peer")
        );
    }

    #[test]
    fn context_prefixes_message_and_keeps_kind_and_flags() {
        let e = Error::operational("deadline exceeded")
            .timeout()
            .with_code("DeadlineExceeded")
            .context("fetch");
        assert_eq!(e.message(), "fetch: deadline exceeded");
        assert!(e.is_timeout());
        assert!(!e.is_auth());
        assert_eq!(e.code(), Some("DeadlineExceeded"));
        assert_eq!(e.kind(), ErrorKind::Operational);
    }

    #[test]
    fn flags_accumulate() {
        let e = Error::operational("connect timed out")
            .connection()
            .timeout();
        assert!(e.is_connection() && e.is_timeout() && !e.is_auth() && !e.is_cancelled());
        assert!(
            format!("{e:?}").contains(r#"flags: ["timeout", "connection"]"#),
            "{e:?}"
        );
        assert!(Error::operational("x").cancelled().is_cancelled());
    }

    #[test]
    fn messages_and_codes_hold_no_nul_or_control_characters() {
        let e = Error::internal("no\0 more\x1b]52;c;x\x07 here\r\nnext\tline")
            .with_code("co\0de")
            .context("in\x1bside");
        assert_eq!(
            e.message(),
            "in\\u{1b}side: no\\u{0} more\\u{1b}]52;c;x\\u{7} here\\u{d}\nnext\tline"
        );
        assert_eq!(e.code(), Some("co\\u{0}de"));
        assert!(!e.to_string().contains('\0'));
    }

    #[test]
    fn arrow_errors_map_to_kinds() {
        let e: Error = arrow::error::ArrowError::CastError("x".into()).into();
        assert_eq!(e.kind(), ErrorKind::Data);
        let e: Error = arrow::error::ArrowError::NotYetImplemented("x".into()).into();
        assert!(e.is_not_supported());
        let e: Error = arrow::error::ArrowError::IpcError("x".into()).into();
        assert_eq!(e.kind(), ErrorKind::Internal);
    }

    #[test]
    fn kind_names_follow_pep_249() {
        assert_eq!(ErrorKind::NotSupported.to_string(), "NotSupportedError");
        assert_eq!(ErrorKind::Programming.as_str(), "ProgrammingError");
    }
}

//! `dbapi` errors as ADBC errors: the status from the kind, an SQLSTATE where the kind has a
//! standard class, and the gRPC status code (when the error came from one) as the vendor code.

use adbc_core::error::{Error as AdbcError, Status};
use dbapi::{Error, ErrorKind};

fn status(e: &Error) -> Status {
    if e.is_cancelled() {
        return Status::Cancelled;
    }
    if e.is_timeout() {
        return Status::Timeout;
    }
    if e.is_auth() {
        return Status::Unauthenticated;
    }
    match e.kind() {
        ErrorKind::Interface => Status::InvalidState,
        ErrorKind::Programming => Status::InvalidArguments,
        ErrorKind::Data => Status::InvalidData,
        ErrorKind::Integrity => Status::Integrity,
        ErrorKind::Operational => Status::IO,
        ErrorKind::Internal => Status::Internal,
        ErrorKind::NotSupported => Status::NotImplemented,
        _ => Status::Unknown,
    }
}

/// The SQLSTATE: the server's, when the error carries one, else the class of its kind.
fn sqlstate(e: &Error) -> Option<String> {
    if let Some(code) = e.code()
        && code.len() == 5
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && dbapi_flightsql::grpc_code(e).is_none()
    {
        return Some(code.to_owned());
    }
    let state = if e.is_cancelled() {
        "57014"
    } else if e.is_auth() {
        "28000"
    } else if e.is_connection() {
        "08001"
    } else {
        match e.kind() {
            ErrorKind::Programming => "42000",
            ErrorKind::Data => "22000",
            ErrorKind::Integrity => "23000",
            ErrorKind::NotSupported => "0A000",
            _ => return None,
        }
    };
    Some(state.to_owned())
}

/// An ADBC error for a `dbapi` error: the whole report (the error and each cause) as the
/// message.
pub(crate) fn to_adbc(e: &Error) -> AdbcError {
    let mut out = AdbcError::with_message_and_status(e.report().lines().join(": "), status(e));
    if let Some(state) = sqlstate(e) {
        for (slot, byte) in out.sqlstate.iter_mut().zip(state.bytes()) {
            *slot = byte as std::os::raw::c_char;
        }
    }
    if let Some(code) = dbapi_flightsql::grpc_code(e) {
        out.vendor_code = code as i32;
    }
    out
}

/// An ADBC error of this driver's own.
pub(crate) fn adbc(status: Status, message: impl Into<String>) -> AdbcError {
    AdbcError::with_message_and_status(message, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(e: &AdbcError) -> String {
        e.sqlstate.iter().map(|&c| char::from(c as u8)).collect()
    }

    #[test]
    fn kinds_become_statuses_and_sqlstates() {
        let e = to_adbc(&Error::programming("no such table").with_code("INVALID_ARGUMENT"));
        assert_eq!(e.status, Status::InvalidArguments);
        assert_eq!(state(&e), "42000");
        assert_eq!(e.vendor_code, 3);
        assert!(e.message.contains("no such table"), "{}", e.message);
        let e = to_adbc(
            &Error::operational("gone")
                .connection()
                .with_code("UNAVAILABLE"),
        );
        assert_eq!(
            (e.status, state(&e), e.vendor_code),
            (Status::IO, "08001".into(), 14)
        );
        let e = to_adbc(&Error::operational("stop").cancelled());
        assert_eq!((e.status, state(&e)), (Status::Cancelled, "57014".into()));
        let e = to_adbc(&Error::new(ErrorKind::Integrity, "dup").with_code("23505"));
        assert_eq!(
            (e.status, state(&e), e.vendor_code),
            (Status::Integrity, "23505".into(), 0)
        );
        let e = to_adbc(&Error::not_supported("no"));
        assert_eq!(e.status, Status::NotImplemented);
        let e = to_adbc(&Error::internal("bug"));
        assert_eq!((e.status, e.sqlstate), (Status::Internal, [0; 5]));
    }
}

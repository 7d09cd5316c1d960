//! ADBC errors as `dbapi` errors: the kind from the SQLSTATE when the driver gives one, else
//! from the ADBC status code.

use adbc_core::error::{Error as AdbcError, Status};
use dbapi::{Error, ErrorKind};

use crate::config::scrub;

/// The SQLSTATE of an ADBC error, when the driver set one.
fn sqlstate(error: &AdbcError) -> Option<String> {
    if error.sqlstate.iter().all(|&c| c == 0) {
        return None;
    }
    let code: String = error
        .sqlstate
        .iter()
        .map(|&c| {
            let byte = c as u8;
            if byte.is_ascii_alphanumeric() {
                char::from(byte)
            } else {
                '?'
            }
        })
        .collect();
    (code != "00000").then_some(code)
}

/// The kind for an SQLSTATE class (PEP 249's mapping as psycopg draws it).
fn kind_of_sqlstate(code: &str) -> Option<ErrorKind> {
    let class = code.get(..2)?;
    Some(match class {
        "0A" => ErrorKind::NotSupported,
        "22" => ErrorKind::Data,
        "23" => ErrorKind::Integrity,
        "08" | "53" | "57" | "58" | "40" | "28" => ErrorKind::Operational,
        "42" | "26" | "34" | "3D" | "3F" | "25" => ErrorKind::Programming,
        "XX" => ErrorKind::Internal,
        _ => return None,
    })
}

/// The kind for an ADBC status.
fn kind_of_status(status: Status) -> ErrorKind {
    match status {
        Status::NotImplemented => ErrorKind::NotSupported,
        Status::NotFound | Status::AlreadyExists | Status::InvalidArguments => {
            ErrorKind::Programming
        }
        Status::InvalidState => ErrorKind::Interface,
        Status::InvalidData => ErrorKind::Data,
        Status::Integrity => ErrorKind::Integrity,
        Status::Internal => ErrorKind::Internal,
        Status::IO
        | Status::Cancelled
        | Status::Timeout
        | Status::Unauthenticated
        | Status::Unauthorized => ErrorKind::Operational,
        Status::Ok | Status::Unknown => ErrorKind::Database,
    }
}

/// A `dbapi` error for an ADBC error, its message scrubbed of `secrets`; `what` says what
/// was being done (e.g. `"executing"`).
pub(crate) fn from_adbc(error: AdbcError, what: &str, secrets: &[String]) -> Error {
    let state = sqlstate(&error);
    let kind = state
        .as_deref()
        .and_then(kind_of_sqlstate)
        .unwrap_or_else(|| kind_of_status(error.status));
    let message = scrub(error.message.trim(), secrets);
    let mut out = Error::new(kind, format!("{what}: {message}"));
    out = match (error.status, state.as_deref()) {
        (Status::Cancelled, _) | (_, Some("57014")) => out.cancelled(),
        (Status::Timeout, _) => out.timeout(),
        (Status::Unauthenticated | Status::Unauthorized, _) | (_, Some("28000" | "28P01")) => {
            out.auth()
        }
        (Status::IO, _) | (_, Some("08000" | "08001" | "08003" | "08006")) => out.connection(),
        _ => out,
    };
    if let Some(state) = state {
        out = out.with_code(state);
    } else if error.vendor_code != 0 {
        out = out.with_code(format!("vendor {}", error.vendor_code));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adbc(status: Status, state: &[u8; 5], message: &str) -> AdbcError {
        let mut e = AdbcError::with_message_and_status(message, status);
        for (slot, &b) in e.sqlstate.iter_mut().zip(state) {
            *slot = b as std::os::raw::c_char;
        }
        e
    }

    #[test]
    fn kinds_follow_the_sqlstate_then_the_status() {
        let e = from_adbc(adbc(Status::Unknown, b"23505", "dup"), "executing", &[]);
        assert_eq!(e.kind(), ErrorKind::Integrity);
        assert_eq!(e.code(), Some("23505"));
        assert!(e.to_string().contains("executing: dup"), "{e}");
        let e = from_adbc(adbc(Status::InvalidArguments, b"42P01", "no t"), "x", &[]);
        assert_eq!(e.kind(), ErrorKind::Programming);
        let e = from_adbc(adbc(Status::InvalidData, &[0; 5], "bad"), "x", &[]);
        assert_eq!(e.kind(), ErrorKind::Data);
        assert_eq!(e.code(), None);
        let e = from_adbc(adbc(Status::NotImplemented, &[0; 5], "no"), "x", &[]);
        assert!(e.is_not_supported());
        let e = from_adbc(adbc(Status::Cancelled, &[0; 5], "stop"), "x", &[]);
        assert!(e.is_cancelled());
        let e = from_adbc(adbc(Status::Unknown, b"57014", "stop"), "x", &[]);
        assert!(e.is_cancelled());
        let e = from_adbc(adbc(Status::IO, &[0; 5], "gone"), "x", &[]);
        assert!(e.is_connection());
        assert_eq!(e.kind(), ErrorKind::Operational);
        let e = from_adbc(adbc(Status::Unknown, b"28P01", "who"), "x", &[]);
        assert!(e.is_auth());
    }

    #[test]
    fn messages_lose_their_secrets() {
        let e = from_adbc(
            adbc(
                Status::IO,
                &[0; 5],
                "could not connect to postgresql://u:hunter2@h",
            ),
            "connecting",
            &["hunter2".to_owned()],
        );
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(!format!("{e:?}").contains("hunter2"));
    }
}

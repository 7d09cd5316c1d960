//! Explanations of connection failures: TLS errors named by their cause and the URL key
//! that fixes them, and what a server answered when it is not a gRPC server.

use std::fmt;
use std::io;

use rustls::CertificateError;

/// A connection failure explained: the message says what went wrong and what to change.
#[derive(Debug)]
pub(crate) struct ConnectFailure(pub(crate) String);

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectFailure {}

/// The explanation of a TLS error carried by an I/O error (what tokio-rustls returns).
pub(crate) fn explain_io(error: &io::Error, server_name: &str) -> Option<String> {
    error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .map(|tls| explain_rustls(tls, server_name))
}

/// The message for a rustls error.
pub(crate) fn explain_rustls(error: &rustls::Error, server_name: &str) -> String {
    use rustls::AlertDescription as Alert;
    match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => format!(
                "the server's certificate is not signed by a trusted CA ({error}): give the CA \
                 in tls_root_certs (a PEM file or inline PEM)"
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => format!(
                "the server's certificate has expired ({error}); renew it on the server, or \
                 check this machine's clock"
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!(
                    "the server's certificate is not valid yet ({error}); check this \
                     machine's clock"
                )
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the server's certificate is not valid for the name {server_name:?} ({error}): \
                 connect by a name the certificate holds, or set tls_server_name to one"
                )
            }
            CertificateError::Revoked => format!("the server's certificate is revoked ({error})"),
            _ => format!("the server's certificate was refused ({error})"),
        },
        rustls::Error::AlertReceived(Alert::CertificateRequired) => {
            "the server requires a client certificate: set tls_client_cert and tls_client_key"
                .to_owned()
        }
        rustls::Error::AlertReceived(
            alert @ (Alert::BadCertificate
            | Alert::UnknownCA
            | Alert::CertificateUnknown
            | Alert::CertificateExpired
            | Alert::CertificateRevoked
            | Alert::UnsupportedCertificate),
        ) => format!(
            "the server refused the client certificate (alert {alert:?}): check \
             tls_client_cert and the CA the server trusts"
        ),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => format!(
            "the server does not speak TLS ({error}): use tls=false with flightsql://, or \
             grpc+tcp://"
        ),
        rustls::Error::NoApplicationProtocol => {
            "the server does not offer HTTP/2 through ALPN: it is not a gRPC server over TLS"
                .to_owned()
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

/// What the first bytes of a server's answer say, when they are not what gRPC sends.
pub(crate) fn sniff_answer(first: &[u8]) -> Option<&'static str> {
    if first.starts_with(b"HTTP/1.") || first.starts_with(b"HTTP/0.") {
        Some(
            "the server answered with HTTP/1, not gRPC over HTTP/2: is this the address of a \
             web server or a proxy without HTTP/2?",
        )
    } else if first.len() >= 3
        && (first[0] == 0x15 || first[0] == 0x16)
        && first[1] == 0x03
        && first[2] <= 0x04
    {
        Some(
            "the server answered with TLS: use tls=true with flightsql://, or grpc+tls://, \
             instead of a plaintext connection",
        )
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CertificateError;

    #[test]
    fn http1_and_tls_answers_are_recognised() {
        assert!(
            sniff_answer(b"HTTP/1.1 400 Bad Request\r\n").is_some_and(|m| m.contains("HTTP/1"))
        );
        assert!(sniff_answer(&[0x16, 0x03, 0x03, 0x00, 0x7a]).is_some_and(|m| m.contains("TLS")));
        // An HTTP/2 SETTINGS frame is what a gRPC server sends first.
        assert!(sniff_answer(&[0, 0, 6, 4, 0, 0, 0, 0, 0]).is_none());
    }

    #[test]
    fn certificate_errors_name_the_cause_and_the_key() {
        let unknown = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert!(explain_rustls(&unknown, "h").contains("tls_root_certs"));
        let name = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        let text = explain_rustls(&name, "10.0.0.7");
        assert!(
            text.contains("10.0.0.7") && text.contains("tls_server_name"),
            "{text}"
        );
        let expired = rustls::Error::InvalidCertificate(CertificateError::Expired);
        assert!(explain_rustls(&expired, "h").contains("expired"));
        let required = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired);
        assert!(explain_rustls(&required, "h").contains("tls_client_cert"));
    }
}

//! TLS settings through rustls: trusted roots (the system's or a PEM bundle), client
//! certificates, and a verifier that accepts anything for `tls_skip_verify`.

use std::fmt;
use std::sync::Arc;

use dbapi::{Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::{Config, Pem};

/// The TLS settings of a client, built once and shared by the channels it opens (the server
/// and endpoint locations).
#[derive(Clone)]
pub(crate) struct Tls {
    pub(super) config: Arc<ClientConfig>,
    pub(super) insecure: bool,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("verify", &!self.insecure)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// The TLS settings of a configuration: trusted roots (the system's unless
    /// `tls_root_certs`), the client certificate when given, ALPN `h2`.
    pub(crate) fn new(config: &Config) -> Result<Tls> {
        if let Some(custom) = config.tls_config() {
            let mut client = ClientConfig::clone(custom);
            client.alpn_protocols = vec![b"h2".to_vec()];
            return Ok(Tls {
                config: Arc::new(client),
                insecure: false,
            });
        }
        Ok(Tls {
            config: Arc::new(client_config(config, b"h2")?),
            insecure: config.tls_skip_verify(),
        })
    }
}

/// A rustls client configuration from the TLS keys of a configuration, offering one
/// application protocol (ALPN).
fn client_config(config: &Config, alpn: &[u8]) -> Result<ClientConfig> {
    {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::interface("cannot set up TLS").with_source(e))?;
        let builder = if config.tls_skip_verify() {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
        } else {
            builder.with_root_certificates(root_store(config.tls_root_certs())?)
        };
        let mut client = match (config.tls_client_cert(), config.tls_client_key()) {
            (None, None) => builder.with_no_client_auth(),
            (Some(cert), Some(key)) => {
                let chain = certificates(cert, "tls_client_cert")?;
                let key = private_key(key)?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    let text = match e {
                        rustls::Error::InconsistentKeys(_) => {
                            "tls_client_key is not the private key of the certificate in \
                             tls_client_cert"
                                .to_owned()
                        }
                        other => format!(
                            "cannot use tls_client_cert and tls_client_key as a client certificate: {other}"
                        ),
                    };
                    Error::interface(text)
                })?
            }
            (Some(_), None) => {
                return Err(Error::interface(
                    "tls_client_cert is set but tls_client_key is not: a client certificate needs its private key",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::interface(
                    "tls_client_key is set but tls_client_cert is not: a client certificate needs both",
                ));
            }
        };
        client.alpn_protocols = vec![alpn.to_vec()];
        Ok(client)
    }
}

/// The TLS settings of plain HTTP/1.1 requests (the OAuth token endpoint, `https://`
/// locations): the certificate is always verified, against `tls_root_certs` or the system's
/// roots, and no client certificate is presented. `tls_skip_verify` and the client
/// certificate are the Flight server's alone: the client secret and presigned URLs never go
/// to an unverified peer.
pub(crate) fn http_client_config(config: &Config) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::interface("cannot set up TLS").with_source(e))?
        .with_root_certificates(root_store(config.tls_root_certs())?)
        .with_no_client_auth();
    client.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(client)
}

/// The roots a client trusts: a PEM bundle, or the system's.
fn root_store(pem: Option<&Pem>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match pem {
        Some(pem) => {
            for cert in certificates(pem, "tls_root_certs")? {
                roots.add(cert).map_err(|e| {
                    Error::interface(format!(
                        "tls_root_certs holds a certificate that cannot be a trust anchor: {e}"
                    ))
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // A system store may hold certificates rustls cannot use; the others still
                // serve.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(Error::interface(
                    "no trusted root certificates found on this system: give the server's CA \
                     with tls_root_certs (a PEM file or inline PEM)",
                ));
            }
        }
    }
    Ok(roots)
}

/// The bytes of a PEM option: the file's contents or the inline text.
fn pem_bytes(pem: &Pem, key: &str) -> Result<Vec<u8>> {
    match pem {
        Pem::Inline(text) => Ok(text.as_bytes().to_vec()),
        Pem::File(path) => std::fs::read(path).map_err(|e| {
            Error::interface(format!("cannot read {key} file {}", path.display())).with_source(e)
        }),
    }
}

/// The certificates of a PEM option, at least one.
fn certificates(pem: &Pem, key: &str) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = pem_bytes(pem, key)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::interface(format!("{key} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::interface(format!(
            "{key} holds no certificate (expected PEM blocks -----BEGIN CERTIFICATE-----)"
        )));
    }
    Ok(certs)
}

/// The private key of `tls_client_key`. Its contents never appear in errors.
fn private_key(pem: &Pem) -> Result<PrivateKeyDer<'static>> {
    let bytes = pem_bytes(pem, "tls_client_key")?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        let why = match e {
            rustls::pki_types::pem::Error::NoItemsFound => "it holds no private key".to_owned(),
            other => format!("it is not valid PEM ({})", redacted_pem_error(&other)),
        };
        Error::interface(format!("tls_client_key cannot be used: {why}"))
    })
}

/// A PEM error's kind, without any of the text it quotes.
fn redacted_pem_error(e: &rustls::pki_types::pem::Error) -> &'static str {
    use rustls::pki_types::pem::Error as E;
    match e {
        E::MissingSectionEnd { .. } => "a section has no end line",
        E::IllegalSectionStart { .. } => "a section start line is malformed",
        E::Base64Decode(_) => "the base64 body is malformed",
        E::Io(_) => "it cannot be read",
        E::NoItemsFound => "no items",
        _ => "malformed",
    }
}

/// Accepts any server certificate (`tls_skip_verify=true`); handshake signatures are still
/// checked, so the connection is encrypted, but the server is not authenticated.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_key_never_appears_in_its_error() {
        let pem = Pem::Inline(
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw!!\n-----END PRIVATE KEY-----\n"
                .into(),
        );
        let e = private_key(&pem).unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(text.contains("tls_client_key"), "{text}");
    }
}

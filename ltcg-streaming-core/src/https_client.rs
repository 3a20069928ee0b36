//! The one outgoing HTTPS client setup: reqwest over rustls (ring) with the webpki roots, so
//! every call to a cloud API (LiveKit, the streaming platforms) trusts the same roots.

use std::sync::Arc;
use std::time::Duration;

/// Why the client could not be built (TLS or HTTP configuration; no secret involved).
#[derive(Debug)]
pub(crate) struct ClientSetupFailed;

/// An HTTPS client; `timeout` bounds each whole request when given.
pub(crate) fn https_client(
    timeout: Option<Duration>,
) -> Result<reqwest::Client, ClientSetupFailed> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| ClientSetupFailed)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut builder = reqwest::Client::builder().tls_backend_preconfigured(tls);
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    builder.build().map_err(|_| ClientSetupFailed)
}

//! The process's rustls crypto provider.
//!
//! rustls needs one provider per process when more than one is compiled in (ring for the HTTP
//! target and notifications, aws-lc-rs with the `k8s` and `aws` features). Every TLS client
//! of this crate calls [`install_provider`] before it is built.

use std::sync::Once;

/// Installs ring as the process's default rustls provider, unless one is installed already
/// (by the user's code, or by an earlier call).
///
/// ```
/// chaos_runtime::tls::install_provider();
/// assert!(rustls::crypto::CryptoProvider::get_default().is_some());
/// ```
pub fn install_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Another thread may install one between the check and this call: either wins.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
    });
}

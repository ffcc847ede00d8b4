//! `verify_tls`: an HTTPS receiver with a self-signed certificate is refused by a verifying
//! channel and reached by one with `verify_tls = false`.

use chaos_harness::journal::{DeliveryStatus, JournalRecorder};
use chaos_harness::notify::{
    BoxedChannel, DeliveryPolicy, HttpChannel, HttpChannelConfig, NotificationSink, Notifier,
};
use chaos_harness::{run::Runner, Action, Context, Experiment};
use chaos_test_support::receiver::{Answer, Receiver};
use std::sync::Arc;
use std::time::Duration;

/// An HTTPS receiver on loopback with a fresh self-signed certificate.
fn https_receiver() -> Receiver {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let der = cert.cert.der().clone();
    let key =
        tokio_rustls::rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der())
            .unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der], key)
    .unwrap();
    Receiver::start_tls(
        Answer::Ok,
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    )
}

fn deliver_once(url: &str, verify_tls: bool) -> Vec<DeliveryStatus> {
    let channel = BoxedChannel::new(
        HttpChannel::new(HttpChannelConfig {
            name: format!("tls-{verify_tls}"),
            url: url.into(),
            headers: Vec::new(),
            verify_tls,
            forward_event_payload: true,
            events: Some(vec!["run-started".into()]),
            policy: DeliveryPolicy {
                timeout: Duration::from_secs(3),
                retries: 0,
                backoff: Duration::ZERO,
            },
        })
        .unwrap(),
    );
    let exp = Experiment::builder("tls::x")
        .method(Action::new("a", |_| async { Ok(()) }))
        .build()
        .unwrap();
    let recorder = JournalRecorder::new("tls::x");
    let sink = NotificationSink::new(&recorder, Notifier::global().unwrap(), vec![channel], None);
    let deliveries = sink.deliveries();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        Runner::new()
            .sink(recorder)
            .sink(sink)
            .run(&exp, Context::builder().build()),
    );
    deliveries
        .flush(Duration::from_secs(5))
        .into_iter()
        .map(|d| d.status)
        .collect()
}

#[test]
fn verify_tls_refuses_a_self_signed_receiver_unless_turned_off() {
    let receiver = https_receiver();
    let url = format!("{}/events", receiver.url());
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert_eq!(deliver_once(&url, true), [DeliveryStatus::Failed]);
    assert_eq!(
        receiver.requests().len(),
        0,
        "no request got through a failed handshake"
    );
    assert_eq!(deliver_once(&url, false), [DeliveryStatus::Delivered]);
    assert_eq!(receiver.requests().len(), 1);
}

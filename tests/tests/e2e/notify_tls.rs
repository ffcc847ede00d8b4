//! `verify_tls`: an HTTPS receiver with a self-signed certificate is refused by a verifying
//! channel and reached by one with `verify_tls = false`.

use chaos_harness::journal::{DeliveryStatus, JournalRecorder};
use chaos_harness::notify::{
    BoxedChannel, DeliveryPolicy, HttpChannel, HttpChannelConfig, NotificationSink, Notifier,
};
use chaos_harness::{run::Runner, Action, Context, Experiment};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An HTTPS server on loopback with a fresh self-signed certificate; counts requests.
fn https_receiver() -> (String, Arc<AtomicUsize>) {
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
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!(
        "https://127.0.0.1:{}/events",
        listener.local_addr().unwrap().port()
    );
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    std::thread::spawn(move || {
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, counted) = (acceptor.clone(), counted.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = vec![0u8; 65536];
                    let mut got = Vec::new();
                    loop {
                        let n = tls.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        got.extend_from_slice(&buf[..n]);
                        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                            let len: usize = head
                                .lines()
                                .find_map(|l| {
                                    l.strip_prefix("content-length:")
                                        .map(|v| v.trim().parse().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            if got.len() >= end + 4 + len {
                                break;
                            }
                        }
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        })
    });
    (url, count)
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
    let (url, count) = https_receiver();
    assert_eq!(deliver_once(&url, true), [DeliveryStatus::Failed]);
    assert_eq!(
        count.load(Ordering::SeqCst),
        0,
        "no request got through a failed handshake"
    );
    assert_eq!(deliver_once(&url, false), [DeliveryStatus::Delivered]);
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

//! A TLS front for a plain-TCP server on loopback: what a pod's `https://` API server address
//! is to the simulated cluster, which serves plain HTTP.

use std::net::SocketAddr;
use std::time::Duration;

/// Terminates TLS on a free loopback port and relays each connection to `target`. Stops when
/// dropped.
#[derive(Debug)]
pub struct TlsForward {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TlsForward {
    /// Starts the relay on its own thread; `acceptor`'s configuration holds the certificate.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound or no thread started.
    pub fn start(acceptor: tokio_rustls::TlsAcceptor, target: SocketAddr) -> TlsForward {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let thread = std::thread::Builder::new()
            .name("tls-forward".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    let accept = async {
                        loop {
                            let Ok((tcp, _)) = listener.accept().await else {
                                tokio::time::sleep(Duration::from_millis(10)).await;
                                continue;
                            };
                            let acceptor = acceptor.clone();
                            tokio::spawn(async move {
                                let Ok(mut tls) = acceptor.accept(tcp).await else {
                                    return;
                                };
                                let Ok(mut plain) = tokio::net::TcpStream::connect(target).await
                                else {
                                    return;
                                };
                                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                            });
                        }
                    };
                    tokio::select! {
                        () = accept => {}
                        _ = stopped => {}
                    }
                });
            })
            .expect("relay thread");
        TlsForward {
            port,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The relay's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for TlsForward {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

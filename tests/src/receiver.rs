//! A real HTTP receiver on loopback that records every request it gets, for notification
//! tests: it can answer at once, answer an error status, answer late, or never answer.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How the receiver answers.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// `200 OK` at once.
    Ok,
    /// This status at once.
    Status(u16),
    /// `200 OK` after this delay.
    After(Duration),
    /// Reads the request and never answers (the connection stays open).
    Never,
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path and query.
    pub path: String,
    /// Headers, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: String,
    /// When the request was complete.
    pub at: Instant,
}

impl Request {
    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A running receiver.
pub struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    /// Starts a receiver on a free loopback port, serving on its own thread.
    pub fn start(answer: Answer) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let got = Arc::new(Mutex::new(Vec::new()));
        let recorded = got.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        std::thread::spawn(move || {
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(serve(stream, answer, recorded.clone()));
                }
            })
        });
        Receiver { url, got }
    }

    /// The receiver's base URL.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<Request> {
        self.got.lock().unwrap().clone()
    }

    /// Waits up to `timeout` for at least `n` requests, and returns them.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Request> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.requests();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A loopback URL where nothing listens: connections are refused.
pub fn refusing_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    format!("http://127.0.0.1:{port}/refused")
}

async fn serve(mut s: tokio::net::TcpStream, answer: Answer, got: Arc<Mutex<Vec<Request>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let mut lines = head.lines();
    let first = lines.next().unwrap_or("");
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < end + 4 + len {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = String::from_utf8_lossy(&buf[end + 4..]).to_string();
    got.lock().unwrap().push(Request {
        method,
        path,
        headers,
        body,
        at: Instant::now(),
    });
    let status = match answer {
        Answer::Ok => 200,
        Answer::Status(code) => code,
        Answer::After(d) => {
            tokio::time::sleep(d).await;
            200
        }
        Answer::Never => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
    };
    let resp = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
    let _ = s.write_all(resp.as_bytes()).await;
}

//! A dedicated moto server (a local fake of the AWS APIs, `moto[ec2,server]` from PyPI) per
//! test, for the EC2 target's tests.
//!
//! [`Moto::start`] makes sure the pinned moto is installed (`scripts/moto.sh install`, once per
//! process; the script serializes concurrent installs from several processes with a lock), then
//! starts `moto_server` on a free loopback port and waits until it answers. Set
//! `CHAOS_MOTO_SERVER` to the path of a `moto_server` executable to skip the install. Dropping
//! the [`Moto`] kills the server.
//!
//! ```no_run
//! let moto = chaos_test_support::moto::Moto::start();
//! let mut cmd = std::process::Command::new("some-aws-client");
//! cmd.envs(moto.env());
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a server may take to answer after it was spawned.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How many times a server is started again on another port when its port was taken meanwhile.
const PORT_ATTEMPTS: usize = 5;
/// How much of the server's output is kept for error messages (the last bytes).
const OUTPUT_KEEP: usize = 64 * 1024;

/// One running moto server, dedicated to the test that started it.
pub struct Moto {
    child: Child,
    /// Where the server's recorder writes (see [`Moto::record`]).
    recording: PathBuf,
    port: u16,
    url: String,
    output: Arc<Mutex<Vec<u8>>>,
    drains: Vec<JoinHandle<()>>,
}

impl Moto {
    /// Starts a dedicated moto server for this test on a free loopback port (so parallel tests
    /// never share state), after making sure the venv is installed, and waits until it answers.
    ///
    /// # Panics
    ///
    /// When moto cannot be installed, or the server does not answer within 60 s; the message
    /// holds the installer's or the server's output.
    pub fn start() -> Moto {
        let server = moto_server();
        let mut last = String::new();
        for _ in 0..PORT_ATTEMPTS {
            match Self::try_start(&server) {
                Ok(moto) => return moto,
                Err(Retry(output)) => last = output,
            }
        }
        panic!(
            "moto_server ({}) could not bind a loopback port in {PORT_ATTEMPTS} attempts; its \
             last output:\n{last}",
            server.display()
        );
    }

    /// Spawns the server on a port the kernel has just handed out; `Err` when another program
    /// took that port first (so the caller tries another one).
    fn try_start(server: &Path) -> Result<Moto, Retry> {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let recording =
            std::env::temp_dir().join(format!("moto-recording-{}-{port}", std::process::id()));
        let mut child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("PYTHONUNBUFFERED", "1")
            // Recording starts only when asked (`Moto::record`); this is where it goes.
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run moto_server {}: {e}", server.display()));
        let output = Arc::new(Mutex::new(Vec::new()));
        let drains = vec![
            drain(child.stdout.take(), &output),
            drain(child.stderr.take(), &output),
        ];
        let mut moto = Moto {
            child,
            recording,
            port,
            url,
            output,
            drains,
        };
        moto.wait_ready(server)?;
        Ok(moto)
    }

    /// Polls until this server (not another program that happens to hold the port) answers.
    fn wait_ready(&mut self, server: &Path) -> Result<(), Retry> {
        let started = Instant::now();
        let banner = format!("Running on {}", self.url);
        // When the output shows no banner (another Werkzeug wording), a server that has kept
        // answering while the child stayed alive for this long is taken as the child.
        let mut answering_since: Option<Instant> = None;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait on moto_server") {
                let output = self.final_output();
                if output.contains("in use") {
                    return Err(Retry(output));
                }
                panic!(
                    "moto_server ({}) exited with {status} before answering at {}; its \
                     output:\n{output}",
                    server.display(),
                    self.url
                );
            }
            if http(self.port, "GET", "/moto-api/", &[], "").is_ok_and(|(code, _)| code == 200) {
                let since = *answering_since.get_or_insert_with(Instant::now);
                if self.output().contains(&banner) || since.elapsed() > Duration::from_secs(3) {
                    return Ok(());
                }
            } else {
                answering_since = None;
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "moto_server ({}) did not answer at {} within {} s; its output:\n{}",
                    server.display(),
                    self.url,
                    START_TIMEOUT.as_secs(),
                    self.final_output()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Forgets every resource the server holds (`POST /moto-api/reset`).
    ///
    /// # Panics
    ///
    /// When the server does not answer 200.
    pub fn reset(&self) {
        match http(self.port, "POST", "/moto-api/reset", &[], "") {
            Ok((200, _)) => {}
            Ok((code, body)) => panic!("moto reset at {} answered {code}: {body}", self.url),
            Err(e) => panic!("moto reset at {} failed: {e}", self.url),
        }
    }

    /// Starts recording the requests the server receives, forgetting any recorded before (moto's
    /// recorder, `/moto-api/recorder/*`); [`Moto::recorded_actions`] reads them back.
    ///
    /// # Panics
    ///
    /// When the server does not answer 200.
    pub fn record(&self) {
        for path in [
            "/moto-api/recorder/reset-recording",
            "/moto-api/recorder/start-recording",
        ] {
            match http(self.port, "POST", path, &[], "") {
                Ok((200, _)) => {}
                Ok((code, body)) => panic!("moto {path} at {} answered {code}: {body}", self.url),
                Err(e) => panic!("moto {path} at {} failed: {e}", self.url),
            }
        }
    }

    /// The `Action` of every Query API request recorded since [`Moto::record`], in order
    /// (`"StopInstances"`, `"StartInstances"`, ...): how many times a client made each call.
    ///
    /// # Panics
    ///
    /// When the recording cannot be downloaded or a line of it is not moto's JSON.
    pub fn recorded_actions(&self) -> Vec<String> {
        use base64::Engine as _;
        let text = match http(
            self.port,
            "GET",
            "/moto-api/recorder/download-recording",
            &[],
            "",
        ) {
            Ok((200, body)) => body,
            Ok((code, body)) => panic!("moto's recording at {} answered {code}: {body}", self.url),
            Err(e) => panic!("moto's recording at {} failed: {e}", self.url),
        };
        let mut actions = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let entry: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a line of moto's recording is not JSON ({e}): {line}"));
            let body = entry["body"].as_str().unwrap_or_default();
            let body = if entry["body_encoded"] == true {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .unwrap_or_else(|e| panic!("a recorded body is not base64 ({e}): {line}"));
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                body.to_owned()
            };
            if let Some(action) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
                actions.push(action.to_owned());
            }
        }
        actions
    }

    /// Environment variables that point the AWS SDK (and CLI) at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }

    /// Sends one EC2 Query API call, e.g. `"Action=DescribeInstances&Version=2016-11-15"`
    /// (form-encoded parameters), and returns the status code and the body (XML).
    ///
    /// The request is unsigned but carries an `Authorization` header whose credential scope
    /// names `ec2` in `us-east-1`: moto routes requests by that scope (an unsigned request
    /// without it goes to S3) and does not check signatures.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached.
    pub fn ec2_query(&self, params: &str) -> (u16, String) {
        let headers = [
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/ec2/aws4_request, \
                 SignedHeaders=host, Signature=0",
            ),
        ];
        http(self.port, "POST", "/", &headers, params)
            .unwrap_or_else(|e| panic!("EC2 query to {} failed: {e}", self.url))
    }

    /// The output of a server that has exited, once its pipes are drained (at most 2 s more).
    fn final_output(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && !self.drains.iter().all(JoinHandle::is_finished) {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.output()
    }

    /// What the server has printed so far (its last 64 KiB).
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.recording);
    }
}

impl std::fmt::Debug for Moto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Moto")
            .field("pid", &self.child.id())
            .field("url", &self.url)
            .finish()
    }
}

/// The server's port was taken by another program before it could bind it; the server's output.
struct Retry(String);

/// The `moto_server` to run: `CHAOS_MOTO_SERVER`, or the one `scripts/moto.sh install` installs
/// (run once per process).
fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("CHAOS_MOTO_SERVER").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    INSTALLED
        .get_or_init(install)
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `bash scripts/moto.sh install` and takes the last line of its output as the path.
fn install() -> Result<PathBuf, String> {
    // The workspace root: this crate is tests/support.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("bash")
        .arg("scripts/moto.sh")
        .arg("install")
        .current_dir(&root)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run bash scripts/moto.sh install: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let path = stdout.lines().last().unwrap_or("").trim();
    if !out.status.success() || path.is_empty() {
        return Err(format!(
            "`bash scripts/moto.sh install` (in {}) failed with {}; set CHAOS_MOTO_SERVER to a \
             moto_server to skip it\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            root.display(),
            out.status
        ));
    }
    let path = PathBuf::from(path);
    Ok(if path.is_relative() {
        root.join(path)
    } else {
        path
    })
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free loopback port")
        .port()
}

/// Copies a pipe of the server into `buf` until it closes, keeping the last [`OUTPUT_KEEP`]
/// bytes (the pipe must be drained anyway, or a chatty server would block on it).
fn drain(pipe: Option<impl Read + Send + 'static>, buf: &Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    let buf = Arc::clone(buf);
    std::thread::spawn(move || {
        let Some(mut pipe) = pipe else { return };
        let mut chunk = [0u8; 8192];
        while let Ok(n @ 1..) = pipe.read(&mut chunk) {
            let mut b = buf.lock().unwrap_or_else(|e| e.into_inner());
            b.extend_from_slice(&chunk[..n]);
            if b.len() > 2 * OUTPUT_KEEP {
                let cut = b.len() - OUTPUT_KEEP;
                b.drain(..cut);
            }
        }
    })
}

/// A minimal HTTP/1.1 exchange with 127.0.0.1:`port` (`Connection: close`): the status code and
/// the body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    s.flush()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw)
        .ok_or_else(|| std::io::Error::other("malformed HTTP response"))
        .map(|(code, body)| (code, String::from_utf8_lossy(&body).into_owned()))
}

/// The status code and the body (de-chunked when chunked) of a whole HTTP/1.1 response.
fn parse_response(raw: &[u8]) -> Option<(u16, Vec<u8>)> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let rest = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let code = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transfer-encoding")
                && v.to_ascii_lowercase().contains("chunked")
        })
    });
    if !chunked {
        return Some((code, rest.to_vec()));
    }
    let mut body = Vec::new();
    let mut rest = rest;
    loop {
        let eol = rest.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&rest[..eol]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Some((code, body));
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::parse_response;

    #[test]
    fn parses_plain_and_chunked_responses() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        assert_eq!(parse_response(plain), Some((200, b"ok".to_vec())));
        let chunked =
            b"HTTP/1.1 404 NOT FOUND\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked), Some((404, b"abcde".to_vec())));
        assert_eq!(parse_response(b"garbage"), None);
    }
}

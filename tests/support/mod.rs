//! What the integration tests share: a scriptable upstream on 127.0.0.1, a real `wasmtime serve`
//! or `wasmtime run` of the built artifacts, and a minimal HTTP/1.1 client. Only std is used, so
//! the tests exercise the artifacts exactly as a user's HTTP client and upstream would.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A built artifact under dist/; the test command builds them first (scripts/test).
pub fn artifact(name: &str) -> PathBuf {
    let path = repo().join("dist").join(name);
    assert!(path.exists(), "{} is missing: build it with scripts/build (scripts/test does)", path.display());
    path
}

/// A request as the upstream received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the request's head had arrived.
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What the upstream does with a request.
pub enum Reply {
    /// Status, content type, body, sent with its content-length.
    Send(u16, &'static str, Vec<u8>),
    /// The same, after a pause.
    Slow(Duration, u16, Vec<u8>),
    /// Headers at once, then the body one byte at a time with a pause between bytes.
    Trickle(Duration, Vec<u8>),
    /// A body without content-length, ended by closing the connection.
    Unframed(u16, Vec<u8>),
    /// Announces `declared` bytes, sends `body` (fewer), and hangs up.
    ShortBody { declared: usize, body: Vec<u8> },
    /// Closes the connection without answering.
    HangUp,
    /// Any bytes at all, written as they are, then the connection is closed.
    Raw(Vec<u8>),
    /// Status, extra headers and a body (sent with its content-length unless the status forbids one).
    Headers(u16, Vec<(&'static str, String)>, Vec<u8>),
}

pub fn json(status: u16, body: &str) -> Reply {
    Reply::Send(status, "application/json", body.as_bytes().to_vec())
}

/// A loopback upstream that answers every request with `reply` and records what it received.
pub struct Upstream {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Upstream {
    pub fn start(reply: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let reply = Arc::new(reply);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (log, reply) = (log.clone(), reply.clone());
                thread::spawn(move || {
                    let _ = serve_connection(stream, &*reply, &log);
                });
            }
        });
        Upstream { port, received }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn serve_connection(
    stream: TcpStream,
    reply: &(dyn Fn(&Received) -> Reply + Send + Sync),
    log: &Mutex<Vec<Received>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let Some(request) = read_request(&mut reader)? else { return Ok(()) };
        log.lock().unwrap().push(request.clone());
        match reply(&request) {
            Reply::Send(status, content_type, body) => send(&mut writer, status, content_type, &body)?,
            Reply::Slow(pause, status, body) => {
                thread::sleep(pause);
                send(&mut writer, status, "application/json", &body)?
            }
            Reply::Trickle(pause, body) => {
                write!(writer, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len())?;
                writer.flush()?;
                for b in body {
                    thread::sleep(pause);
                    writer.write_all(&[b])?;
                    writer.flush()?;
                }
            }
            Reply::Unframed(status, body) => {
                write!(writer, "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n")?;
                writer.write_all(&body)?;
                return writer.shutdown(Shutdown::Both);
            }
            Reply::ShortBody { declared, body } => {
                write!(writer, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\n\r\n")?;
                writer.write_all(&body)?;
                return writer.shutdown(Shutdown::Both);
            }
            Reply::HangUp => return writer.shutdown(Shutdown::Both),
            Reply::Raw(bytes) => {
                writer.write_all(&bytes)?;
                return writer.shutdown(Shutdown::Both);
            }
            Reply::Headers(status, headers, body) => {
                let mut head = format!("HTTP/1.1 {status} X\r\n");
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                if !matches!(status, 204 | 304) {
                    head.push_str(&format!("content-length: {}\r\n", body.len()));
                }
                head.push_str("\r\n");
                writer.write_all(head.as_bytes())?;
                writer.write_all(&body)?;
                writer.flush()?;
            }
        }
    }
}

fn send(writer: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    write!(writer, "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n", body.len())?;
    writer.write_all(body)?;
    writer.flush()
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Received>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let headers = read_headers(reader)?;
    let at = Instant::now();
    let body = read_body(reader, &headers, false)?;
    Ok(Some(Received { method, target, headers, body, at }))
}

fn read_headers(reader: &mut impl BufRead) -> std::io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            return Ok(headers);
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
}

fn read_body(reader: &mut impl BufRead, headers: &[(String, String)], to_end: bool) -> std::io::Result<Vec<u8>> {
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                return Ok(body);
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    match header("content-length") {
        Some(length) => {
            body.resize(length.parse().unwrap_or(0), 0);
            reader.read_exact(&mut body)?;
        }
        None if to_end => {
            reader.read_to_end(&mut body)?;
        }
        None => {}
    }
    Ok(body)
}

/// An answer from the relay.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Status, content type and exact body, the three things every relay test checks.
    #[track_caller]
    pub fn assert(&self, status: u16, body: &str) {
        assert_eq!(self.status, status, "status of {self:?}");
        assert_eq!(self.header("content-type"), Some("application/json"), "content-type of {self:?}");
        assert_eq!(self.body, body);
    }
}

/// Sends one request and reads the whole answer (`connection: close`).
pub fn request(port: u16, method: &str, path: &str, extra_headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in extra_headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = read_headers(&mut reader).unwrap();
    let body = read_body(&mut reader, &headers, true).unwrap();
    Answer { status, headers, body: String::from_utf8(body).unwrap() }
}

pub fn post(port: u16, body: &str) -> Answer {
    request(port, "POST", "/", &[], body.as_bytes())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `wasmtime serve` of an artifact, with environment variables; stopped when dropped.
pub struct Serve {
    pub port: u16,
    child: Child,
    log: PathBuf,
}

impl Serve {
    pub fn start(artifact_name: &str, env: &[(&str, String)]) -> Serve {
        Serve::start_with(artifact_name, &[], env)
    }

    /// `start` with more `wasmtime serve` flags (`-W max-memory-size=...`, say).
    pub fn start_with(artifact_name: &str, wasmtime_flags: &[&str], env: &[(&str, String)]) -> Serve {
        let component = artifact(artifact_name);
        for _ in 0..3 {
            let port = free_port();
            let mut command = Command::new("wasmtime");
            command.args(["serve", "--addr", &format!("127.0.0.1:{port}"), "-Scli"]).args(wasmtime_flags);
            for (name, value) in env {
                command.arg("--env").arg(format!("{name}={value}"));
            }
            let log = std::env::temp_dir().join(format!("edge-relay-serve-{port}.log"));
            let child = command
                .arg(&component)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("wasmtime is not on PATH: run scripts/setup");
            let mut serve = Serve { port, child, log };
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = serve.child.try_wait() {
                    break; // the port was taken meanwhile: try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return serve;
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("wasmtime serve did not start");
    }
}

impl Serve {
    /// What wasmtime and the component wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The relay's environment for an upstream URL and a field list, plus overrides.
pub fn relay_env(url: String, fields: &str, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut env = vec![("RELAY_UPSTREAM_URL", url), ("RELAY_FIELDS", fields.to_string())];
    env.extend(extra.iter().map(|(name, value)| (*name, value.to_string())));
    env
}

/// `wasmtime run -S http` of an artifact with arguments and stdin; waits for it to exit.
pub fn run(artifact_name: &str, wasmtime_flags: &[&str], args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new("wasmtime")
        .args(["run", "-S", "http"])
        .args(wasmtime_flags)
        .arg(artifact(artifact_name))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wasmtime is not on PATH: run scripts/setup");
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

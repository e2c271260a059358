//! The hardening of issue 10, each test pinning a defect found by trying the relay as an attacker
//! and as a careless operator would: secrets in messages, unbounded waits, memory far from the
//! data, inexact settings. dist/edge_relay.wasm under `wasmtime serve`, upstreams on 127.0.0.1.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use support::{json, post, relay_env, request, Reply, Serve, Upstream};

const COMPONENT: &str = "edge_relay.wasm";
const MISCONFIGURED: &str = r#"{"error":{"code":"config","message":"the relay is misconfigured"}}"#;

/// Every kind of mistake, in every setting that holds a secret, with the parts of the secret a
/// message must never show.
#[test]
fn no_body_and_no_log_line_repeats_a_configured_secret() {
    let upstream = Upstream::start(|_| json(200, r#"{"a":1}"#));
    let url = upstream.url("/api?token=SECRET-QUERY-7");
    let cases: Vec<Vec<(&'static str, String)>> = vec![
        vec![("RELAY_UPSTREAM_HEADERS", "x-api-key=abc,SECRET-TAIL-1".into())],
        vec![("RELAY_UPSTREAM_HEADERS", "authorization:Bearer sk-live-SECRET-2".into())],
        vec![("RELAY_UPSTREAM_HEADERS", "authorization:Bearer sk-live-SECRET-3=x".into())],
        vec![("RELAY_UPSTREAM_HEADERS", "x-a=1,SECRET-NAME-4 x=1".into())],
        vec![("RELAY_UPSTREAM_HEADERS", "x-key=SECRET-VALUE-5%zz".into())],
        vec![("RELAY_UPSTREAM_HEADERS", "x-key=SECRET-VALUE-6%0d%0ax-evil: 1".into())],
        vec![("RELAY_UPSTREAM_HEADERS", "host=SECRET-HOST-7".into())],
        vec![("RELAY_API_KEY", "SECRET-KEY-8\r\nx-evil: 1".into())],
        vec![("RELAY_API_KEY", "SECRET-KEY-9".into()), ("RELAY_API_KEY_HEADER", "x-key:SECRET-HEADER-9".into())],
        vec![("RELAY_API_KEY", "SECRET-KEY-10".into()), ("RELAY_API_KEY_HEADER", "Host".into())],
        vec![("RELAY_API_KEY", "SECRET-KEY-11".into()), ("RELAY_TIMEOUT_MS", "soon".into())],
        vec![("RELAY_UPSTREAM_URL", upstream.url("/a\n?token=SECRET-QUERY-12"))],
        vec![("RELAY_UPSTREAM_URL", "http://SECRET-USER-13:pw@127.0.0.1/".into())],
    ];
    for case in cases {
        let mut env = relay_env(url.clone(), "a", &[]);
        env.retain(|(name, _)| !case.iter().any(|(set, _)| set == name));
        env.extend(case.iter().cloned());
        let relay = Serve::start(COMPONENT, &env);
        let answer = post(relay.port, "{}");
        assert_eq!((answer.status, answer.body.as_str()), (500, MISCONFIGURED), "{case:?}");
        let health = request(relay.port, "GET", "/healthz", &[], b"");
        health.assert(503, MISCONFIGURED);
        let log = relay.log();
        let setting = case.last().unwrap().0;
        assert!(log.contains(&format!("edge-relay: config: {setting}: ")), "{case:?}: log {log:?}");
        for secret in ["SECRET", "sk-live", "abc", "x-evil", "token="] {
            assert!(!log.contains(secret), "{case:?}: the log shows {secret:?}: {log}");
        }
    }
    assert!(upstream.received().is_empty(), "a misconfigured relay sent a request");
}

/// A valid configuration's secrets stay out of every message too, whatever fails.
#[test]
fn a_working_relay_shows_its_secrets_nowhere() {
    let upstream = Upstream::start(|request| match request.target.as_str() {
        "/fail?token=SECRET-Q" => json(500, r#"{"detail":"oops"}"#),
        _ => json(200, "not json"),
    });
    let headers = ("RELAY_UPSTREAM_HEADERS", "x-key=SECRET-H");
    let key = ("RELAY_API_KEY", "SECRET-K");
    for path in ["/fail?token=SECRET-Q", "/other?token=SECRET-Q"] {
        let relay = Serve::start(COMPONENT, &relay_env(upstream.url(path), "a", &[headers, key]));
        let answer = post(relay.port, "{}");
        assert_eq!(answer.status, 502, "{answer:?}");
        assert!(!answer.body.contains("SECRET") && !relay.log().contains("SECRET"), "{answer:?} {}", relay.log());
    }
}

#[test]
fn a_setting_with_line_breaks_cannot_split_a_log_line() {
    let upstream = Upstream::start(|_| json(200, "{}"));
    let relay = Serve::start(COMPONENT, &relay_env(upstream.url("/"), "x=a..b\r\nedge-relay: forged line", &[]));
    post(relay.port, "{}").assert(500, MISCONFIGURED);
    let log = relay.log();
    // wasmtime puts `stderr [0] :: ` before each line the component writes.
    let lines: Vec<&str> = log.lines().filter(|line| line.contains("edge-relay")).collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(lines[0].contains("edge-relay: config: RELAY_FIELDS: in \\\"x=a..b\\r\\nedge-relay: forged line\\\""), "{log}");
}

#[test]
fn healthz_fails_while_the_configuration_does_not_read() {
    let upstream = Upstream::start(|_| json(200, "{}"));
    let broken = Serve::start(COMPONENT, &[("RELAY_UPSTREAM_URL", upstream.url("/"))]);
    request(broken.port, "GET", "/healthz", &[], b"").assert(503, MISCONFIGURED);
    assert_eq!(head_status(broken.port, "/healthz"), 503);
    assert!(broken.log().contains("edge-relay: config: RELAY_FIELDS: is not set"), "{}", broken.log());
    let working = Serve::start(COMPONENT, &relay_env(upstream.url("/"), "a", &[]));
    request(working.port, "GET", "/healthz", &[], b"").assert(200, r#"{"status":"ok"}"#);
    assert_eq!(head_status(working.port, "/healthz"), 200);
    assert!(upstream.received().is_empty());
}

/// The status of a HEAD request (whose answer has a length but no body).
fn head_status(port: u16, path: &str) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "HEAD {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    line.split(' ').nth(1).and_then(|status| status.parse().ok()).unwrap_or(0)
}

/// An upstream that keeps every pause under the between-bytes limit is still cut off at the
/// deadline of the whole exchange.
#[test]
fn a_trickling_upstream_is_cut_off_at_the_deadline() {
    let body = br#"{"a":"0123456789012345678901234567890123456789"}"#.to_vec();
    let upstream = Upstream::start(move |_| Reply::Trickle(Duration::from_millis(100), body.clone()));
    let env = relay_env(upstream.url("/"), "a", &[("RELAY_TIMEOUT_MS", "1000"), ("RELAY_DEADLINE_MS", "1500")]);
    let relay = Serve::start(COMPONENT, &env);
    let started = Instant::now();
    post(relay.port, "{}").assert(504, r#"{"error":{"code":"upstream_timeout","message":"the upstream did not answer within 1500 ms"}}"#);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1400) && took < Duration::from_millis(3500), "{took:?}");
}

/// A loopback upstream written for one exchange: reads the request head, then does `then` with
/// the connection and the number of body bytes it declared.
fn one_shot_upstream(then: impl FnOnce(BufReader<TcpStream>, usize) + Send + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim_end().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        then(reader, length);
    });
    port
}

fn answer_json(stream: &mut TcpStream, status: u16, body: &str) {
    let _ = write!(stream, "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len());
    let _ = stream.flush();
}

/// Reads `length` bytes at about `per_second`.
fn read_slowly(reader: &mut BufReader<TcpStream>, length: usize, per_second: usize) {
    let mut buffer = vec![0; per_second / 20];
    let mut left = length;
    while left > 0 {
        let n = reader.read(&mut buffer[..left.min(per_second / 20)]).unwrap();
        assert!(n > 0, "the relay stopped sending");
        left -= n;
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_upload_that_keeps_moving_is_no_timeout() {
    // 16 MiB read at 3 MB/s: 5.6 s of upload against a 2.5 s pause limit (the bytes still in the
    // sockets' buffers when the last one is handed over, about 1 s of reading here, count as sent).
    let size = 16 << 20;
    let port = one_shot_upstream(move |mut reader, length| {
        assert_eq!(length, size);
        read_slowly(&mut reader, length, 3_000_000);
        answer_json(reader.get_mut(), 200, r#"{"a":"all read"}"#);
    });
    let env = relay_env(format!("http://127.0.0.1:{port}/"), "a", &[("RELAY_TIMEOUT_MS", "2500"), ("RELAY_MAX_REQUEST_BYTES", "33554432")]);
    let relay = Serve::start(COMPONENT, &env);
    let body = format!(r#"{{"pad":"{}"}}"#, "x".repeat(size - 10));
    assert_eq!(body.len(), size);
    let started = Instant::now();
    post(relay.port, &body).assert(200, r#"{"a":"all read"}"#);
    assert!(started.elapsed() > Duration::from_secs(5), "{:?}: the upstream did not read slowly", started.elapsed());
}

#[test]
fn an_upstream_that_answers_mid_upload_is_relayed() {
    let size = 8 << 20;
    let body = format!(r#"{{"pad":"{}"}}"#, "x".repeat(size - 10));
    // Refuses after 64 KiB and reads no more.
    let port = one_shot_upstream(|mut reader, _| {
        let mut start = vec![0; 64 << 10];
        reader.read_exact(&mut start).unwrap();
        answer_json(reader.get_mut(), 413, r#"{"error":"too big"}"#);
        thread::sleep(Duration::from_secs(5));
    });
    let env = relay_env(format!("http://127.0.0.1:{port}/"), "a", &[("RELAY_TIMEOUT_MS", "3000"), ("RELAY_MAX_REQUEST_BYTES", "16777216")]);
    let relay = Serve::start(COMPONENT, &env);
    let started = Instant::now();
    post(relay.port, &body)
        .assert(413, r#"{"error":{"code":"upstream_status","message":"the upstream answered with status 413","status":413}}"#);
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}: the relay waited for the upload", started.elapsed());

    // Answers 200 after 64 KiB, and reads the rest.
    let port = one_shot_upstream(move |mut reader, length| {
        let mut start = vec![0; 64 << 10];
        reader.read_exact(&mut start).unwrap();
        answer_json(reader.get_mut(), 200, r#"{"a":"early"}"#);
        let mut rest = vec![0; length - start.len()];
        let _ = reader.read_exact(&mut rest);
    });
    let env = relay_env(format!("http://127.0.0.1:{port}/"), "a", &[("RELAY_TIMEOUT_MS", "3000"), ("RELAY_MAX_REQUEST_BYTES", "16777216")]);
    let relay = Serve::start(COMPONENT, &env);
    post(relay.port, &body).assert(200, r#"{"a":"early"}"#);
}

/// Sends a request and reads nothing for `pause`, then all there is; returns the declared length
/// and the bytes that came.
fn read_after(port: u16, pause: Duration) -> (usize, usize) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(b"POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}").unwrap();
    thread::sleep(pause);
    let mut all = Vec::new();
    let _ = stream.read_to_end(&mut all);
    let head_end = all.windows(4).position(|w| w == b"\r\n\r\n").map_or(all.len(), |at| at + 4);
    let head = String::from_utf8_lossy(&all[..head_end]).to_ascii_lowercase();
    let declared = head.lines().find_map(|line| line.strip_prefix("content-length:")).map_or(0, |value| value.trim().parse().unwrap());
    (declared, all.len() - head_end)
}

#[test]
fn a_client_that_does_not_read_the_answer_is_let_go() {
    let value = "y".repeat(8 << 20);
    let document = format!(r#"{{"a":"{value}"}}"#);
    let upstream = Upstream::start(move |_| Reply::Send(200, "application/json", document.clone().into_bytes()));
    let env = relay_env(upstream.url("/"), "a", &[("RELAY_TIMEOUT_MS", "1000"), ("RELAY_MAX_RESPONSE_BYTES", "16777216")]);
    let mut relay = Serve::start(COMPONENT, &env);
    // A reader that keeps up gets all of it.
    let (declared, came) = read_after(relay.port, Duration::ZERO);
    assert_eq!((declared, came), (value.len() + 8, value.len() + 8));
    // One that stalls past the pause limit finds the answer cut off: the relay stopped waiting.
    let (declared, came) = read_after(relay.port, Duration::from_secs(4));
    assert_eq!(declared, value.len() + 8);
    assert!(came < declared, "the relay waited {came} bytes long for a client that did not read");
    assert!(relay.is_running());
    post(relay.port, "{}").assert(200, &format!(r#"{{"a":"{value}"}}"#));
}

/// Under a 4 MiB memory limit: a 3 MiB body fits (at 4x its size it did not), a 6 MiB one gets a
/// JSON 413 from the relay rather than the host's error page for a trap.
#[test]
fn a_request_body_takes_about_its_own_size_in_memory() {
    let upstream = Upstream::start(|request| json(200, &format!(r#"{{"n":{}}}"#, request.body.len())));
    let env = relay_env(upstream.url("/"), "n", &[("RELAY_MAX_REQUEST_BYTES", "33554432")]);
    let relay = Serve::start_with(COMPONENT, &["-W", "max-memory-size=4194304"], &env);
    for size in [3 << 20, 1 << 20, 3 << 20 | 12345] {
        let body = format!(r#"{{"pad":"{}"}}"#, "x".repeat(size - 10));
        post(relay.port, &body).assert(200, &format!(r#"{{"n":{size}}}"#));
    }
    let body = format!(r#"{{"pad":"{}"}}"#, "x".repeat(6 << 20));
    early_answer(relay.port, body.as_bytes())
        .assert(413, r#"{"error":{"code":"body_too_large","message":"the request body does not fit in the relay's memory"}}"#);
    post(relay.port, "{}").assert(200, r#"{"n":2}"#);
    assert!(!relay.log().contains("wasm backtrace"), "{}", relay.log());
}

/// Posts `body` and reads the answer while the body is still going out: a relay that refuses a
/// body part way answers and closes, and a client that writes on until the end meets a broken
/// pipe (and may lose the answer to the reset). Retried when the reset wins the race anyway.
fn early_answer(port: u16, body: &[u8]) -> support::Answer {
    for _ in 0..3 {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let head = format!("POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {}\r\n\r\n", body.len());
        let mut writer = stream.try_clone().unwrap();
        let body = body.to_vec();
        let sending = thread::spawn(move || {
            let _ = writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(&body));
        });
        let mut all = Vec::new();
        let read = stream.read_to_end(&mut all);
        let _ = sending.join();
        let text = String::from_utf8_lossy(&all).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            assert!(read.is_err(), "the relay closed without an answer");
            continue;
        };
        let mut lines = head.lines();
        let status = lines.next().and_then(|line| line.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        return support::Answer { status, headers, body: body.to_string() };
    }
    panic!("three resets in a row: the answer never reached the client");
}

#[test]
fn a_captured_value_larger_than_memory_is_a_json_error() {
    let document = format!(r#"{{"a":"{}","b":1}}"#, "z".repeat(6 << 20));
    let upstream = Upstream::start(move |_| Reply::Send(200, "application/json", document.clone().into_bytes()));
    let env = relay_env(upstream.url("/"), "a", &[("RELAY_MAX_RESPONSE_BYTES", "33554432")]);
    let relay = Serve::start_with(COMPONENT, &["-W", "max-memory-size=4194304"], &env);
    post(relay.port, "{}").assert(500, r#"{"error":{"code":"out_of_memory","message":"the answer does not fit in the relay's memory"}}"#);
    assert!(!relay.log().contains("wasm backtrace"), "{}", relay.log());
    let env = relay_env(upstream.url("/"), "b", &[("RELAY_MAX_RESPONSE_BYTES", "33554432")]);
    let relay = Serve::start_with(COMPONENT, &["-W", "max-memory-size=4194304"], &env);
    post(relay.port, "{}").assert(200, r#"{"b":1}"#);
}

#[test]
fn settings_mean_exactly_what_they_say() {
    let upstream = Upstream::start(|_| json(200, r#"{"a ":"spaced","a":"plain"}"#));
    // A pointer keeps its trailing space.
    let relay = Serve::start(COMPONENT, &relay_env(upstream.url("/"), "sp=/a ", &[]));
    post(relay.port, "{}").assert(200, r#"{"sp":"spaced"}"#);
    // Two fields with one name, and an empty key, are configuration errors.
    for (fields, extra, logged) in [
        ("a,a=/a", vec![], "RELAY_FIELDS: the name \"a\" is given to two fields"),
        ("a", vec![("RELAY_API_KEY", " ")], "RELAY_API_KEY: is empty"),
    ] {
        let relay = Serve::start(COMPONENT, &relay_env(upstream.url("/"), fields, &extra));
        post(relay.port, "{}").assert(500, MISCONFIGURED);
        assert!(relay.log().contains(&format!("edge-relay: config: {}", logged.replace('"', "\\\""))), "{}", relay.log());
    }
    // The path goes out percent-encoded where RFC 3986 requires it.
    let relay = Serve::start(COMPONENT, &relay_env(upstream.url("/\u{e9}/a\"b/c d?q=\u{fc}&r=[1]"), "a", &[]));
    post(relay.port, "{}").assert(200, r#"{"a":"plain"}"#);
    assert_eq!(upstream.received().last().unwrap().target, "/%C3%A9/a%22b/c%20d?q=%C3%BC&r=%5B1%5D");
}

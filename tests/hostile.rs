//! Hostile upstreams and hostile clients against dist/edge_relay.wasm under `wasmtime serve`.
//! Every case maps to its documented status and error code within the timeout, and the request
//! after it is served normally.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::{json, post, relay_env, request, Reply, Serve, Upstream};

const NORMAL: &str = r#"{"normal":true}"#;

/// An upstream that misbehaves as `hostile` says, except for requests whose body is `NORMAL`.
fn upstream(hostile: impl Fn() -> Reply + Send + Sync + 'static) -> Upstream {
    Upstream::start(move |r| if r.body == NORMAL.as_bytes() { json(200, r#"{"a":"fine"}"#) } else { hostile() })
}

fn relay(upstream: &Upstream, extra: &[(&'static str, &str)]) -> Serve {
    let mut env: Vec<(&'static str, &str)> = extra.to_vec();
    if !extra.iter().any(|(name, _)| *name == "RELAY_TIMEOUT_MS") {
        env.push(("RELAY_TIMEOUT_MS", "1000"));
    }
    Serve::start("edge_relay.wasm", &relay_env(upstream.url("/api"), "a", &env))
}

/// The hostile answer gives `status` and `code`, in time; the next request is answered normally.
#[track_caller]
fn assert_contained(hostile: impl Fn() -> Reply + Send + Sync + 'static, extra: &[(&'static str, &str)], status: u16, code: &str) {
    let upstream = upstream(hostile);
    let mut relay = relay(&upstream, extra);
    let started = Instant::now();
    let answer = post(relay.port, "{}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(answer.status, status, "{answer:?}");
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert!(answer.body.starts_with(&format!(r#"{{"error":{{"code":"{code}","message":"#)), "{}", answer.body);
    post(relay.port, NORMAL).assert(200, r#"{"a":"fine"}"#);
    assert!(relay.is_running());
    let log = relay.log();
    assert!(!log.contains("wasm backtrace") && !log.contains("trap"), "log: {log}");
}

#[test]
fn an_upstream_that_hangs_up_without_answering() {
    assert_contained(|| Reply::HangUp, &[], 502, "upstream_unreachable");
}

#[test]
fn an_upstream_that_resets_mid_body() {
    assert_contained(|| Reply::ShortBody { declared: 100, body: br#"{"a":"#.to_vec() }, &[], 502, "upstream_unreachable");
}

#[test]
fn an_upstream_whose_content_length_is_too_small() {
    // Bytes past the declared length are a protocol violation for the host's HTTP client.
    assert_contained(
        || Reply::Raw(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5\r\n\r\n{\"a\":\"long\"}".to_vec()),
        &[],
        502,
        "upstream_unreachable",
    );
}

#[test]
fn an_upstream_that_trickles_slower_than_the_timeout() {
    assert_contained(
        || Reply::Trickle(Duration::from_millis(700), br#"{"a":1}"#.to_vec()),
        &[("RELAY_TIMEOUT_MS", "300")],
        504,
        "upstream_timeout",
    );
}

#[test]
fn an_upstream_that_trickles_within_the_timeout_is_waited_for() {
    let upstream = Upstream::start(|_| Reply::Trickle(Duration::from_millis(100), br#"{"a":[1,2]}"#.to_vec()));
    let relay = relay(&upstream, &[("RELAY_TIMEOUT_MS", "1000")]);
    post(relay.port, "{}").assert(200, r#"{"a":[1,2]}"#);
}

#[test]
fn an_upstream_sending_invalid_utf8() {
    assert_contained(|| Reply::Send(200, "application/json", b"{\"a\":\"\xff\"}".to_vec()), &[], 502, "upstream_invalid_json");
}

#[test]
fn an_upstream_sending_a_100_000_deep_document() {
    let mut deep = "[".repeat(100_000);
    assert_contained(move || Reply::Send(200, "application/json", deep.clone().into_bytes()), &[], 502, "upstream_invalid_json");
    deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let upstream = Upstream::start(move |_| Reply::Send(200, "application/json", deep.clone().into_bytes()));
    let relay = relay(&upstream, &[]);
    post(relay.port, "{}").assert(200, r#"{"a":null}"#);
}

#[test]
fn an_upstream_sending_an_empty_body() {
    assert_contained(|| json(200, ""), &[], 502, "upstream_invalid_json");
}

#[test]
fn an_upstream_answering_3xx_4xx_5xx() {
    // A client error stays the client's; a redirect without a location and a server error are a
    // bad gateway.
    for (status, relayed) in [(301, 502), (404, 404), (429, 429), (503, 502)] {
        assert_contained(move || json(status, "{}"), &[], relayed, "upstream_status");
    }
}

#[test]
fn an_upstream_body_over_the_limit() {
    let big = format!(r#"{{"a":"{}"}}"#, "z".repeat(10_000));
    let framed = big.clone();
    assert_contained(
        move || Reply::Send(200, "application/json", framed.clone().into_bytes()),
        &[("RELAY_MAX_RESPONSE_BYTES", "1000")],
        502,
        "upstream_too_large",
    );
    assert_contained(
        move || Reply::Unframed(200, big.clone().into_bytes()),
        &[("RELAY_MAX_RESPONSE_BYTES", "1000")],
        502,
        "upstream_too_large",
    );
}

/// The content type is not trusted either way: the body decides.
#[test]
fn a_json_body_under_another_content_type_is_still_projected() {
    let upstream = Upstream::start(|_| Reply::Send(200, "text/plain", br#"{"a":"x"}"#.to_vec()));
    let relay = relay(&upstream, &[]);
    post(relay.port, "{}").assert(200, r#"{"a":"x"}"#);
}

#[test]
fn a_client_cannot_choose_the_upstream_or_its_headers() {
    let upstream = Upstream::start(|_| json(200, r#"{"a":1}"#));
    let relay = relay(&upstream, &[]);
    let headers = [("x-forwarded-host", "evil.example"), ("authorization", "Bearer client"), ("cookie", "s=1")];
    request(relay.port, "POST", "http://evil.example/steal?x=1", &headers, b"{}").assert(200, r#"{"a":1}"#);
    request(relay.port, "POST", "/../../etc/passwd", &headers, b"").assert(200, r#"{"a":1}"#);
    request(relay.port, "POST", "/%00%0d%0a", &[], b"").assert(200, r#"{"a":1}"#);
    // A method outside RELAY_ALLOWED_METHODS never reaches the upstream.
    let refused = r#"{"error":{"code":"method_not_allowed","message":"this method is not allowed here"}}"#;
    request(relay.port, "DELETE", "/../../etc/passwd", &headers, b"").assert(405, refused);
    request(relay.port, "BREW", "/%00%0d%0a", &[], b"").assert(405, refused);
    for sent in upstream.received() {
        assert_eq!((sent.method.as_str(), sent.target.as_str()), ("POST", "/api"));
        assert_eq!(sent.header("host"), Some(format!("127.0.0.1:{}", upstream.port).as_str()));
        for (name, _) in headers {
            assert_eq!(sent.header(name), None, "{name} was forwarded");
        }
    }
}

#[test]
fn truncated_and_invalid_client_bodies() {
    let upstream = Upstream::start(|_| json(200, r#"{"a":1}"#));
    let relay = relay(&upstream, &[("RELAY_MAX_REQUEST_BYTES", "1000")]);
    for body in [&b"{\"a\":"[..], b"\xff\xfe", b"{} {}", b"nul", b"[1,]"] {
        let answer = request(relay.port, "POST", "/", &[], body);
        assert_eq!(answer.status, 400, "{body:?}: {answer:?}");
        assert!(answer.body.starts_with(r#"{"error":{"code":"invalid_json""#), "{}", answer.body);
    }
    // Announces 100 bytes, sends 10, stops sending.
    let mut stream = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"a\":1234").unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 400"), "{answer}");
    let oversized = request(relay.port, "POST", "/", &[], format!("[{}]", "1,".repeat(600) + "1").as_bytes());
    assert_eq!(oversized.status, 413);
    post(relay.port, "{}").assert(200, r#"{"a":1}"#);
    assert_eq!(upstream.received().len(), 1, "only the valid request reached the upstream");
}

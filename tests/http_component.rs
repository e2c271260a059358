//! dist/edge_relay.wasm under a real `wasmtime serve`, against real upstreams on 127.0.0.1.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use support::{json, post, relay_env, request, Reply, Serve, Upstream};

const COMPONENT: &str = "edge_relay.wasm";

const DOCUMENT: &str = r#"{"data":{"id":12345678901234567890123456789,"attributes":{"name":"Caf\u00e9 \"Zo\u00eb\" 😀 \\ /","score":1.0e+2},"tags":["a","b",{"deep":[null,true]}]},"meta":{"status":"ok"}}"#;

fn serve(upstream: &Upstream, fields: &str, extra: &[(&'static str, &str)]) -> Serve {
    Serve::start(COMPONENT, &relay_env(upstream.url("/api?key=1"), fields, extra))
}

#[test]
fn relays_nested_fields_arrays_escapes_and_big_numbers() {
    let upstream = Upstream::start(|_| json(200, DOCUMENT));
    let fields = "id=/data/id,name=data.attributes.name,score=/data/attributes/score,tag=data.tags.1,\
                  deep=/data/tags/2/deep/1,tags=data.tags,missing=data.nope,meta.status";
    let relay = serve(&upstream, fields, &[("RELAY_UPSTREAM_HEADERS", "x-api-key=k%2C1")]);
    let body = r#"{"query": "caf\u00e9", "n": 1.50}"#;
    let answer = request(relay.port, "POST", "/anything", &[("x-secret", "client-only")], body.as_bytes());
    answer.assert(
        200,
        r#"{"id":12345678901234567890123456789,"name":"Caf\u00e9 \"Zo\u00eb\" 😀 \\ /","score":1.0e+2,"tag":"b","deep":true,"tags":["a","b",{"deep":[null,true]}],"missing":null,"status":"ok"}"#,
    );
    let sent = upstream.received();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].method.as_str(), sent[0].target.as_str()), ("POST", "/api?key=1"));
    assert_eq!(sent[0].body, body.as_bytes());
    assert_eq!(sent[0].header("content-length"), Some(body.len().to_string().as_str()));
    assert_eq!(sent[0].header("transfer-encoding"), None);
    assert_eq!(sent[0].header("content-type"), Some("application/json"));
    assert_eq!(sent[0].header("x-api-key"), Some("k,1"));
    assert_eq!(sent[0].header("x-secret"), None, "client headers must not be forwarded");
}

#[test]
fn healthz_answers_without_calling_the_upstream() {
    let upstream = Upstream::start(|_| json(200, "{}"));
    let relay = serve(&upstream, "a", &[]);
    request(relay.port, "GET", "/healthz", &[], b"").assert(200, r#"{"status":"ok"}"#);
    assert!(upstream.received().is_empty());
}

#[test]
fn invalid_request_json_is_400() {
    let upstream = Upstream::start(|_| json(200, "{}"));
    let relay = serve(&upstream, "a", &[]);
    post(relay.port, r#"{"a":1,}"#)
        .assert(400, r#"{"error":{"code":"invalid_json","message":"the request body is not valid JSON: unexpected character at byte 7"}}"#);
    post(relay.port, "{\"a\":\"\u{1}\"}").assert(
        400,
        r#"{"error":{"code":"invalid_json","message":"the request body is not valid JSON: unescaped control character in a string at byte 6"}}"#,
    );
    assert!(upstream.received().is_empty());
}

#[test]
fn oversized_request_is_413() {
    let upstream = Upstream::start(|_| json(200, "{}"));
    let relay = serve(&upstream, "a", &[("RELAY_MAX_REQUEST_BYTES", "16")]);
    let expected = r#"{"error":{"code":"body_too_large","message":"the request body is larger than 16 bytes"}}"#;
    post(relay.port, r#"{"a":"0123456789"}"#).assert(413, expected);
    post(relay.port, r#"{"a":"012345"}"#).assert(200, r#"{"a":null}"#);
    assert_eq!(upstream.received().len(), 1);
}

#[test]
fn empty_request_body_is_sent_with_zero_length() {
    let upstream = Upstream::start(|_| json(200, r#"{"a":[]}"#));
    let relay = serve(&upstream, "a", &[]);
    post(relay.port, "").assert(200, r#"{"a":[]}"#);
    let sent = upstream.received();
    assert_eq!((sent[0].header("content-length"), sent[0].body.len()), (Some("0"), 0));
}

#[test]
fn configured_method_is_used() {
    let upstream = Upstream::start(|r| json(200, &format!(r#"{{"method":"{}"}}"#, r.method)));
    let relay = serve(&upstream, "method", &[("RELAY_METHOD", "GET")]);
    request(relay.port, "POST", "/", &[], b"").assert(200, r#"{"method":"GET"}"#);
    assert_eq!(upstream.received()[0].header("content-length"), None);
}

#[test]
fn refused_upstream_is_502() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let env = relay_env(format!("http://127.0.0.1:{port}/"), "a", &[]);
    let relay = Serve::start(COMPONENT, &env);
    post(relay.port, "{}").assert(
        502,
        r#"{"error":{"code":"upstream_unreachable","message":"the upstream could not be reached: the connection was refused"}}"#,
    );
}

/// A DNS failure is an `error-code` case with a payload (`DNS-error`, two options): the host
/// writes it whole into the component's return area, which must have room for it.
#[test]
fn unresolvable_upstream_is_502_and_the_next_request_is_served() {
    // In a network namespace with only loopback, so the failing lookup reaches no name server
    // (tests/support/netns.rs); the inner run of this test does the work.
    #[path = "support/netns.rs"]
    mod netns;
    let Some(inside) = netns::isolated("unresolvable_upstream_is_502_and_the_next_request_is_served") else {
        return;
    };
    const HOST: &str = "edge-relay-test.example";
    let upstream = Upstream::start(|_| json(200, r#"{"a":1,"b":2}"#));
    let env = relay_env(format!("http://{HOST}:{}/api", upstream.port), "a", &[]);
    let relay = Serve::start(COMPONENT, &env);
    for _ in 0..3 {
        let answer = post(relay.port, "{}");
        assert_eq!(answer.status, 502, "{}", answer.body);
        assert_eq!(
            answer.body,
            r#"{"error":{"code":"upstream_unreachable","message":"the upstream could not be reached: its host name does not resolve"}}"#
        );
    }
    request(relay.port, "GET", "/healthz", &[], b"").assert(200, r#"{"status":"ok"}"#);
    assert!(upstream.received().is_empty());
    // Once the name resolves (to the upstream on loopback), the same relay serves the next request.
    inside.add_host(HOST, "127.0.0.1");
    post(relay.port, "{}").assert(200, r#"{"a":1}"#);
    let sent = upstream.received();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].target, "/api");
}

#[test]
fn upstream_error_status_is_502_with_the_status() {
    let upstream = Upstream::start(|_| json(500, r#"{"error":"boom"}"#));
    let relay = serve(&upstream, "a", &[]);
    post(relay.port, "{}")
        .assert(502, r#"{"error":{"code":"upstream_status","message":"the upstream answered with status 500","status":500}}"#);
}

#[test]
fn upstream_non_json_is_502() {
    let upstream = Upstream::start(|_| Reply::Send(200, "text/html", b"<html>oops</html>".to_vec()));
    let relay = serve(&upstream, "a", &[]);
    post(relay.port, "{}").assert(
        502,
        r#"{"error":{"code":"upstream_invalid_json","message":"the upstream's answer is not valid JSON: unexpected character at byte 0"}}"#,
    );
}

#[test]
fn upstream_too_large_is_502_with_or_without_content_length() {
    let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(100));
    let expected = r#"{"error":{"code":"upstream_too_large","message":"the upstream's answer is larger than 64 bytes"}}"#;
    let framed = Upstream::start({
        let big = big.clone();
        move |_| Reply::Send(200, "application/json", big.clone().into_bytes())
    });
    let relay = serve(&framed, "a", &[("RELAY_MAX_RESPONSE_BYTES", "64")]);
    post(relay.port, "{}").assert(502, expected);
    let unframed = Upstream::start(move |_| Reply::Unframed(200, big.clone().into_bytes()));
    let relay = serve(&unframed, "a", &[("RELAY_MAX_RESPONSE_BYTES", "64")]);
    post(relay.port, "{}").assert(502, expected);
}

#[test]
fn a_10_mb_answer_streams_through_1_mib_of_memory() {
    // Strings, numbers and nesting, so that every part of the scanner runs over the whole body.
    let filler: String = (0..200_000).map(|i| format!(r#"{{"n":{i},"s":"caf\u00e9 é {i}","a":[1,2.5e3,null]}},"#)).collect();
    let big = format!(r#"{{"items":[{}0],"tail":{{"id":42}}}}"#, filler);
    assert!(big.len() > 10 << 20, "{}", big.len());
    let upstream = Upstream::start(move |_| Reply::Send(200, "application/json", big.clone().into_bytes()));
    let env = relay_env(upstream.url("/"), "id=/tail/id,last=items.200000", &[("RELAY_MAX_RESPONSE_BYTES", "20000000")]);
    let relay = Serve::start_with(COMPONENT, &["-W", "max-memory-size=1048576"], &env);
    post(relay.port, "{}").assert(200, r#"{"id":42,"last":0}"#);
}

#[test]
fn a_reused_instance_serves_every_request_in_the_same_memory() {
    let upstream = Upstream::start(|_| json(200, r#"{"a":1}"#));
    let flags = ["--max-instance-reuse-count", "1000000", "-W", "max-memory-size=1048576"];
    let relay = Serve::start_with(COMPONENT, &flags, &relay_env(upstream.url("/"), "a", &[]));
    // 200 requests of 16 KiB: 3 MiB in all, through one instance limited to 1 MiB.
    let body = format!(r#"{{"pad":"{}"}}"#, "x".repeat(16 * 1024));
    for _ in 0..200 {
        post(relay.port, &body).assert(200, r#"{"a":1}"#);
    }
}

#[test]
fn slow_upstream_is_504() {
    let upstream = Upstream::start(|_| Reply::Slow(Duration::from_secs(3), 200, br#"{"a":1}"#.to_vec()));
    let relay = serve(&upstream, "a", &[("RELAY_TIMEOUT_MS", "300")]);
    let started = std::time::Instant::now();
    post(relay.port, "{}").assert(504, r#"{"error":{"code":"upstream_timeout","message":"the upstream did not answer within 300 ms"}}"#);
    assert!(started.elapsed() < Duration::from_secs(3), "the timeout was not applied");
}

#[test]
fn missing_or_invalid_configuration_is_500_and_the_log_names_the_variable() {
    const MISCONFIGURED: &str = r#"{"error":{"code":"config","message":"the relay is misconfigured"}}"#;
    let upstream = Upstream::start(|_| json(200, "{}"));
    let relay = Serve::start(COMPONENT, &[("RELAY_UPSTREAM_URL", upstream.url("/"))]);
    post(relay.port, "{}").assert(500, MISCONFIGURED);
    assert!(relay.log().contains("edge-relay: config: RELAY_FIELDS: is not set\n"), "log: {}", relay.log());
    let relay = serve(&upstream, "a", &[("RELAY_TIMEOUT_MS", "soon")]);
    post(relay.port, "{}").assert(500, MISCONFIGURED);
    let expected = "edge-relay: config: RELAY_TIMEOUT_MS: must be a whole number greater than zero\n";
    assert!(relay.log().contains(expected), "log: {}", relay.log());
    assert!(upstream.received().is_empty());
}

#[test]
fn a_client_hanging_up_mid_response_traps_nothing() {
    let value = format!(r#"{{"a":"{}"}}"#, "y".repeat(4 << 20));
    let upstream = Upstream::start(move |_| Reply::Send(200, "application/json", value.clone().into_bytes()));
    let mut relay = serve(&upstream, "a", &[]);
    for _ in 0..3 {
        let mut stream = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
        stream.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}").unwrap();
        std::thread::sleep(Duration::from_millis(300));
        drop(stream);
    }
    std::thread::sleep(Duration::from_millis(300));
    let answer = post(relay.port, "{}");
    assert_eq!((answer.status, answer.body.len()), (200, (4 << 20) + 8));
    assert!(relay.is_running());
    let log = relay.log();
    assert!(!log.contains("trap") && !log.contains("wasm backtrace"), "log: {log}");
}

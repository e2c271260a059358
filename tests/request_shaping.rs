//! Issue 11: the client's request reaches the upstream as configured (routes, URL templates,
//! query and header pass-through, methods) and the upstream's answer comes back as a gateway's
//! should (statuses, headers, redirects, CORS). dist/edge_relay.wasm under `wasmtime serve`,
//! against loopback upstreams that record exactly what they received.

mod support;

use support::{json, request, Reply, Serve, Upstream};

const COMPONENT: &str = "edge_relay.wasm";

fn serve(env: &[(&'static str, String)]) -> Serve {
    Serve::start(COMPONENT, env)
}

fn env(url: String, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut env = vec![("RELAY_UPSTREAM_URL", url), ("RELAY_FIELDS", String::from("a"))];
    env.extend(extra.iter().map(|(name, value)| (*name, value.to_string())));
    env
}

fn get(port: u16, path: &str) -> support::Answer {
    request(port, "GET", path, &[], b"")
}

const NOT_FOUND: &str = r#"{"error":{"code":"not_found","message":"no route matches this path"}}"#;

#[test]
fn a_route_placeholder_lands_in_the_upstream_path() {
    let upstream = Upstream::start(|_| json(200, r#"{"a":"user"}"#));
    let relay = serve(&env(upstream.url("/v2/users/{id}?fields=all"), &[("RELAY_ROUTE", "/users/{id}")]));
    get(relay.port, "/users/7").assert(200, r#"{"a":"user"}"#);
    for outside in ["/users", "/users/", "/users/7/x", "/other/7", "/"] {
        get(relay.port, outside).assert(404, NOT_FOUND);
    }
    get(relay.port, "/healthz").assert(200, r#"{"status":"ok"}"#);
    let sent = upstream.received();
    assert_eq!(sent.len(), 1, "only the matching request went upstream");
    assert_eq!((sent[0].method.as_str(), sent[0].target.as_str()), ("GET", "/v2/users/7?fields=all"));
}

/// The spellings an attacker tries: each is a decoded value re-encoded for its place, or no match.
#[test]
fn hostile_spellings_never_leave_their_segment() {
    let upstream = Upstream::start(|_| json(200, r#"{"a":1}"#));
    let relay = serve(&env(upstream.url("/v2/users/{id}/profile?id={id}"), &[("RELAY_ROUTE", "/users/{id}")]));
    let long = "x".repeat(8192);
    let cases: Vec<(String, Option<String>)> = vec![
        ("/users/a%2Fb".into(), Some("/v2/users/a%2Fb/profile?id=a%2Fb".into())),
        ("/users/@evil.example".into(), Some("/v2/users/%40evil.example/profile?id=%40evil.example".into())),
        ("/users/a%5Cb".into(), Some("/v2/users/a%5Cb/profile?id=a%5Cb".into())),
        ("/users/%00".into(), Some("/v2/users/%00/profile?id=%00".into())),
        ("/users/%ff%fe".into(), Some("/v2/users/%FF%FE/profile?id=%FF%FE".into())),
        ("/users/caf%C3%A9".into(), Some("/v2/users/caf%C3%A9/profile?id=caf%C3%A9".into())),
        ("/users/a&b=c".into(), Some("/v2/users/a%26b%3Dc/profile?id=a%26b%3Dc".into())),
        ("/users/a%23b%3Fc".into(), Some("/v2/users/a%23b%3Fc/profile?id=a%23b%3Fc".into())),
        (format!("/users/{long}"), Some(format!("/v2/users/{long}/profile?id={long}"))),
        ("/users/..".into(), None),
        ("/users/%2e%2e".into(), None),
        ("/users/%2E".into(), None),
        ("/users/..%2F".into(), None),
        ("/users/..%5C".into(), None),
    ];
    for (path, forwarded) in cases {
        let answer = get(relay.port, &path);
        let sent = upstream.received();
        match forwarded {
            Some(target) => {
                answer.assert(200, r#"{"a":1}"#);
                assert_eq!(sent.last().map(|r| r.target.as_str()), Some(target.as_str()), "{path}");
            }
            None => {
                answer.assert(404, NOT_FOUND);
                assert!(sent.last().is_none_or(|r| !r.target.contains("..")), "{path} went upstream");
            }
        }
    }
    // The host is never the client's to choose, whatever the target says.
    get(relay.port, "http://evil.example/users/1").assert(200, r#"{"a":1}"#);
    let last = upstream.received().pop().unwrap();
    assert_eq!(last.header("host"), Some(format!("127.0.0.1:{}", upstream.port).as_str()));
}

#[test]
fn the_rest_of_the_path_keeps_its_slashes() {
    let upstream = Upstream::start(|_| json(200, r#"{"a":1}"#));
    let relay = serve(&env(upstream.url("/api/{rest*}"), &[("RELAY_ROUTE", "/v1/{rest*}")]));
    get(relay.port, "/v1/a/b%2Fc/caf%C3%A9").assert(200, r#"{"a":1}"#);
    for outside in ["/v1", "/v1/", "/v1/a//b", "/v1/a/../b", "/v1/%2e%2e/x"] {
        get(relay.port, outside).assert(404, NOT_FOUND);
    }
    let sent = upstream.received();
    assert_eq!(sent.iter().map(|r| r.target.as_str()).collect::<Vec<_>>(), ["/api/a/b%2Fc/caf%C3%A9"]);
}

#[test]
fn query_parameters_fill_the_template_and_are_forwarded_when_listed() {
    let upstream = Upstream::start(|_| json(200, r#"{"a":"sunny"}"#));
    let url = upstream.url("/forecast?q={query.city}&units=metric");
    let relay = serve(&env(url.clone(), &[("RELAY_ROUTE", "/weather"), ("RELAY_FORWARD_QUERY", "lang,page")]));
    get(relay.port, "/weather?city=Oslo&lang=nb&secret=1&page=2").assert(200, r#"{"a":"sunny"}"#);
    get(relay.port, "/weather?city=S%C3%A3o+Paulo&x=%26").assert(200, r#"{"a":"sunny"}"#);
    get(relay.port, "/weather?town=Oslo")
        .assert(400, r#"{"error":{"code":"missing_parameter","message":"the query parameter \"city\" is missing"}}"#);
    let targets: Vec<String> = upstream.received().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/forecast?q=Oslo&units=metric&lang=nb&page=2", "/forecast?q=S%C3%A3o%20Paulo&units=metric"]);

    let relay = serve(&env(upstream.url("/all"), &[("RELAY_FORWARD_QUERY", "*")]));
    get(relay.port, "/?b=2&a=1&c").assert(200, r#"{"a":"sunny"}"#);
    assert_eq!(upstream.received().last().unwrap().target, "/all?b=2&a=1&c=");
}

#[test]
fn an_api_key_can_go_as_a_query_parameter_and_stays_secret() {
    let upstream = Upstream::start(|request| match request.target.contains("fail") {
        true => json(500, "{}"),
        false => json(200, r#"{"a":1}"#),
    });
    let key = [("RELAY_API_KEY_QUERY", "appid"), ("RELAY_API_KEY", "k3y&SECRET")];
    let relay = serve(&env(upstream.url("/data?x=1"), &key));
    get(relay.port, "/").assert(200, r#"{"a":1}"#);
    let sent = upstream.received().pop().unwrap();
    assert_eq!(sent.target, "/data?x=1&appid=k3y%26SECRET");
    assert_eq!(sent.header("authorization"), None);
    let relay = serve(&env(upstream.url("/fail"), &key));
    assert_eq!(get(relay.port, "/").status, 502);
    assert!(!relay.log().contains("SECRET") && !relay.log().contains("k3y"), "{}", relay.log());
}

#[test]
fn listed_client_headers_are_forwarded_and_no_others() {
    let upstream = Upstream::start(|_| json(200, r#"{"a":1}"#));
    let forward = [("RELAY_FORWARD_HEADERS", "authorization, Accept-Language,if-none-match"), ("RELAY_UPSTREAM_HEADERS", "x-relay=1")];
    let relay = serve(&env(upstream.url("/"), &forward));
    let headers = [("authorization", "Bearer client-token"), ("accept-language", "nb"), ("cookie", "s=1"), ("x-forwarded-for", "6.6.6.6")];
    request(relay.port, "GET", "/", &headers, b"").assert(200, r#"{"a":1}"#);
    let sent = upstream.received().pop().unwrap();
    assert_eq!(sent.header("authorization"), Some("Bearer client-token"));
    assert_eq!(sent.header("accept-language"), Some("nb"));
    assert_eq!(sent.header("x-relay"), Some("1"));
    assert_eq!((sent.header("cookie"), sent.header("x-forwarded-for"), sent.header("if-none-match")), (None, None, None));
    // Host-derived and hop-by-hop names are configuration errors.
    for bad in ["host", "connection", "keep-alive", "transfer-encoding", "proxy-authorization"] {
        let relay = serve(&env(upstream.url("/"), &[("RELAY_FORWARD_HEADERS", bad)]));
        assert_eq!(get(relay.port, "/").status, 500, "{bad}");
        assert!(relay.log().contains("edge-relay: config: RELAY_FORWARD_HEADERS:"), "{}", relay.log());
    }
}

#[test]
fn the_clients_method_goes_upstream_when_allowed() {
    let upstream = Upstream::start(|_| json(200, r#"{"a":"ok"}"#));
    let relay = serve(&env(upstream.url("/"), &[]));
    request(relay.port, "POST", "/", &[], b"{\"q\":1}").assert(200, r#"{"a":"ok"}"#);
    request(relay.port, "GET", "/", &[], b"{\"ignored\":true}").assert(200, r#"{"a":"ok"}"#);
    let head = request(relay.port, "HEAD", "/", &[], b"");
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    for method in ["DELETE", "PUT", "PATCH", "OPTIONS"] {
        let refused = request(relay.port, method, "/", &[], b"");
        refused.assert(405, r#"{"error":{"code":"method_not_allowed","message":"this method is not allowed here"}}"#);
        assert_eq!(refused.header("allow"), Some("GET, POST, HEAD"));
    }
    let sent = upstream.received();
    let seen: Vec<(&str, &[u8])> = sent.iter().map(|r| (r.method.as_str(), r.body.as_slice())).collect();
    assert_eq!(seen, [("POST", &b"{\"q\":1}"[..]), ("GET", b""), ("GET", b"")], "a GET's body is not forwarded; HEAD goes as GET");
    assert_eq!(sent[1].header("content-length"), None);

    let relay = serve(&env(upstream.url("/"), &[("RELAY_ALLOWED_METHODS", "GET,DELETE")]));
    request(relay.port, "DELETE", "/", &[], b"").assert(200, r#"{"a":"ok"}"#);
    assert_eq!(request(relay.port, "POST", "/", &[], b"{}").status, 405);
    let relay = serve(&env(upstream.url("/"), &[("RELAY_METHOD", "PUT")]));
    request(relay.port, "POST", "/", &[], b"{}").assert(200, r#"{"a":"ok"}"#);
    let methods: Vec<String> = upstream.received().into_iter().map(|r| r.method).collect();
    assert_eq!(methods[3..], ["DELETE", "PUT"]);
}

#[test]
fn upstream_statuses_come_back_as_a_gateway_relays_them() {
    let upstream = Upstream::start(|request| {
        let status: u16 = request.target.trim_start_matches('/').parse().unwrap_or(200);
        let headers = vec![("retry-after", String::from("30")), ("etag", String::from("\"v1\"")), ("x-other", String::from("no"))];
        match status {
            204 | 304 => Reply::Headers(status, headers, Vec::new()),
            _ => Reply::Headers(status, headers, br#"{"a":"made","detail":"upstream's own"}"#.to_vec()),
        }
    });
    let relay = serve(&env(upstream.url("/{query.s}"), &[("RELAY_RESPONSE_HEADERS", "etag")]));
    let created = get(relay.port, "/?s=201");
    created.assert(201, r#"{"a":"made"}"#);
    assert_eq!((created.header("etag"), created.header("x-other"), created.header("retry-after")), (Some("\"v1\""), None, None));
    for status in [204, 304] {
        let empty = get(relay.port, &format!("/?s={status}"));
        assert_eq!((empty.status, empty.body.as_str(), empty.header("content-type")), (status, "", None));
    }
    let error = |status: u16| {
        format!(r#"{{"error":{{"code":"upstream_status","message":"the upstream answered with status {status}","status":{status}}}}}"#)
    };
    for (status, relayed, retry) in [(404, 404, None), (429, 429, Some("30")), (503, 502, Some("30")), (500, 502, None)] {
        let answer = get(relay.port, &format!("/?s={status}"));
        answer.assert(relayed, &error(status));
        assert_eq!(answer.header("retry-after"), retry, "{status}");
        assert_eq!(answer.header("etag"), Some("\"v1\""), "relayed headers come with errors too");
    }
    // The upstream's own error body, when asked for, it is JSON, and at most 64 KiB.
    let relay = serve(&env(upstream.url("/{query.s}"), &[("RELAY_UPSTREAM_ERRORS", "body")]));
    get(relay.port, "/?s=404").assert(404, r#"{"a":"made","detail":"upstream's own"}"#);
    get(relay.port, "/?s=500").assert(502, r#"{"a":"made","detail":"upstream's own"}"#);
}

#[test]
fn an_error_body_that_is_not_json_or_too_big_is_not_relayed() {
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(70 * 1024));
    let upstream = Upstream::start(move |request| match request.target.as_str() {
        "/text" => Reply::Send(404, "text/html", b"<h1>Not Found</h1>".to_vec()),
        _ => Reply::Send(404, "application/json", big.clone().into_bytes()),
    });
    for path in ["/text", "/big"] {
        let relay = serve(&env(upstream.url(path), &[("RELAY_UPSTREAM_ERRORS", "body")]));
        get(relay.port, "/")
            .assert(404, r#"{"error":{"code":"upstream_status","message":"the upstream answered with status 404","status":404}}"#);
    }
}

#[test]
fn an_answer_compressed_unasked_is_said_to_be() {
    let upstream = Upstream::start(|_| Reply::Headers(200, vec![("content-encoding", String::from("gzip"))], vec![0x1f, 0x8b, 8, 0]));
    let relay = serve(&env(upstream.url("/"), &[]));
    get(relay.port, "/").assert(
        502,
        r#"{"error":{"code":"upstream_encoding","message":"the upstream's answer has a content-encoding the relay did not ask for"}}"#,
    );
}

#[test]
fn redirects_on_the_same_origin_are_followed_others_are_not() {
    let upstream = Upstream::start(|request| {
        let to = |status: u16, location: String| Reply::Headers(status, vec![("location", location)], Vec::new());
        match request.target.as_str() {
            "/moved" => to(301, String::from("/v2/here")),
            "/see-other" => to(303, String::from("/result")),
            "/temporary" => to(307, String::from("/kept")),
            "/loop1" => to(302, String::from("/loop2")),
            "/loop2" => to(302, String::from("/loop3")),
            "/loop3" => to(302, String::from("/loop4")),
            "/loop4" => to(302, String::from("/loop1")),
            "/away" => to(302, String::from("http://127.0.0.1:1/elsewhere")),
            other => json(200, &format!(r#"{{"a":"{} {other} {}"}}"#, request.method, request.body.len())),
        }
    });
    let cases = [
        ("GET", "/moved", 200, r#"{"a":"GET /v2/here 0"}"#),
        ("POST", "/see-other", 200, r#"{"a":"GET /result 0"}"#),
        ("POST", "/temporary", 200, r#"{"a":"POST /kept 7"}"#),
        ("GET", "/loop1", 502, r#"{"error":{"code":"upstream_status","message":"the upstream answered with status 302","status":302}}"#),
        ("GET", "/away", 502, r#"{"error":{"code":"upstream_status","message":"the upstream answered with status 302","status":302}}"#),
    ];
    for (method, path, status, body) in cases {
        let relay = serve(&env(upstream.url(path), &[]));
        request(relay.port, method, "/", &[], b"{\"b\":1}").assert(status, body);
    }
    let loops = upstream.received().iter().filter(|r| r.target.starts_with("/loop")).count();
    assert_eq!(loops, 4, "the first request and 3 redirects");
}

#[test]
fn cors_preflights_are_answered_here_and_answers_carry_the_origin() {
    let upstream = Upstream::start(|request| match request.target.as_str() {
        "/fail" => json(404, "{}"),
        _ => {
            Reply::Headers(200, vec![("x-ratelimit-remaining", String::from("9")), ("etag", String::from("\"e\""))], br#"{"a":1}"#.to_vec())
        }
    });
    let cors = [
        ("RELAY_CORS_ORIGINS", "https://app.example, http://localhost:3000"),
        ("RELAY_FORWARD_HEADERS", "authorization"),
        ("RELAY_RESPONSE_HEADERS", "x-ratelimit-*"),
    ];
    let relay = serve(&env(upstream.url("/"), &cors));
    let preflight =
        [("origin", "https://app.example"), ("access-control-request-method", "POST"), ("access-control-request-headers", "authorization")];
    let answer = request(relay.port, "OPTIONS", "/", &preflight, b"");
    assert_eq!((answer.status, answer.body.as_str()), (204, ""));
    assert_eq!(answer.header("access-control-allow-origin"), Some("https://app.example"));
    assert_eq!(answer.header("access-control-allow-methods"), Some("GET, POST, HEAD, OPTIONS"));
    assert_eq!(answer.header("access-control-allow-headers"), Some("content-type, authorization"));
    assert_eq!(answer.header("access-control-max-age"), Some("600"));
    assert_eq!(answer.header("vary"), Some("origin"));
    for name in ["access-control-allow-origin", "access-control-allow-methods", "vary"] {
        assert_eq!(answer.headers.iter().filter(|(n, _)| n == name).count(), 1, "{name} once: {answer:?}");
    }
    assert!(upstream.received().is_empty(), "a preflight never reaches the upstream");

    let answer = request(relay.port, "GET", "/", &[("origin", "http://localhost:3000")], b"");
    answer.assert(200, r#"{"a":1}"#);
    assert_eq!(answer.header("access-control-allow-origin"), Some("http://localhost:3000"));
    assert_eq!(answer.header("access-control-expose-headers"), Some("x-ratelimit-remaining"));
    assert_eq!((answer.header("x-ratelimit-remaining"), answer.header("etag")), (Some("9"), None));

    // Errors carry it too; another origin gets no CORS header at all.
    let relay_fail = serve(&env(upstream.url("/fail"), &cors));
    let error = request(relay_fail.port, "GET", "/", &[("origin", "https://app.example")], b"");
    assert_eq!((error.status, error.header("access-control-allow-origin")), (404, Some("https://app.example")));
    for headers in [&[("origin", "https://evil.example")][..], &[]] {
        let answer = request(relay.port, "GET", "/", headers, b"");
        assert_eq!(answer.status, 200);
        assert!(answer.headers.iter().all(|(name, _)| !name.starts_with("access-control-")), "{answer:?}");
    }
    let refused = request(relay.port, "OPTIONS", "/", &[("origin", "https://evil.example"), ("access-control-request-method", "GET")], b"");
    assert_eq!(refused.status, 204);
    assert!(refused.headers.iter().all(|(name, _)| !name.starts_with("access-control-")), "{refused:?}");
}

/// Found in review: a query value placed in the path could climb; the client's query could repeat
/// the operator's parameters; `RELAY_RESPONSE_HEADERS=*` copied the upstream's framing.
#[test]
fn review_findings_stay_fixed() {
    let upstream = Upstream::start(|_| {
        Reply::Headers(
            200,
            vec![("x-ratelimit-remaining", String::from("5")), ("content-encoding", String::from("identity"))],
            br#"{"a":1}"#.to_vec(),
        )
    });
    let relay = serve(&env(
        upstream.url("/v1/users/{query.id}/profile?scope=public"),
        &[("RELAY_FORWARD_QUERY", "*"), ("RELAY_RESPONSE_HEADERS", "*")],
    ));
    for climbing in ["/?id=..", "/?id=%2e%2e", "/?id=", "/?id=..%2F..%2Fadmin"] {
        get(relay.port, climbing)
            .assert(400, r#"{"error":{"code":"invalid_parameter","message":"the query parameter \"id\" cannot be a path segment"}}"#);
    }
    let answer = get(relay.port, "/?id=7&scope=admin&page=2");
    answer.assert(200, r#"{"a":1}"#);
    assert_eq!(answer.header("x-ratelimit-remaining"), Some("5"));
    assert_eq!(answer.headers.iter().filter(|(name, _)| name == "content-length").count(), 1, "{answer:?}");
    assert_eq!(answer.header("content-encoding"), None);
    let sent = upstream.received();
    assert_eq!(sent.iter().map(|r| r.target.as_str()).collect::<Vec<_>>(), ["/v1/users/7/profile?scope=public&id=7&page=2"]);
}

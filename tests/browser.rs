//! CORS as a real browser enforces it: headless Chromium, driven by tests/browser/cors.mjs
//! (playwright-core), loads a page from an allowed origin and one from another origin, both on
//! loopback, and from each fetches dist/edge_relay.wasm under `wasmtime serve`: a simple GET and a
//! POST that needs a preflight. tests/request_shaping.rs checks the relay's CORS headers byte by
//! byte; this checks that they are the ones a browser acts on.
//!
//! Needs node, Chromium (`/usr/bin/chromium`, or `CHROMIUM`) and tools/node_modules/playwright-core
//! (scripts/setup installs both). Without them the test is skipped, unless
//! `EDGE_RELAY_REQUIRE_BROWSER=1` (scripts/test sets it), which makes it fail instead.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{repo, request, Received, Reply, Serve, Upstream};

/// What is missing to drive a browser, if anything.
fn missing_browser_tools() -> Vec<String> {
    let mut missing = Vec::new();
    if !Command::new("node").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success()) {
        missing.push(String::from("node (apt-get install nodejs)"));
    }
    let chromium = chromium();
    if !chromium.exists() {
        missing.push(format!("{} (apt-get install chromium)", chromium.display()));
    }
    if !repo().join("tools/node_modules/playwright-core/package.json").exists() {
        missing.push(String::from("tools/node_modules/playwright-core (npm install --prefix tools playwright-core)"));
    }
    missing
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// A page server on its own loopback port (so its own origin): a blank HTML page at every path.
fn page_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let _ = serve_page(stream);
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn serve_page(stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        // The page's requests carry no body: skip the headers and answer.
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 || header.trim_end().is_empty() {
                break;
            }
        }
        // The empty icon keeps the browser from asking for /favicon.ico.
        let page =
            "<!doctype html><html><head><title>edge-relay CORS</title><link rel=\"icon\" href=\"data:,\"></head><body></body></html>";
        write!(writer, "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\r\n{page}", page.len())?;
        writer.flush()?;
    }
}

/// Runs tests/browser/cors.mjs and returns what it printed, parsed.
fn drive_browser(relay: &str, allowed_page: &str, other_page: &str) -> Value {
    let mut child = Command::new("node")
        .arg(repo().join("tests/browser/cors.mjs"))
        .args([relay, allowed_page, other_page])
        .env("CHROMIUM", chromium())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node did not start");
    // The script gives up by itself after 60 s; this is the backstop.
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tests/browser/cors.mjs did not finish in 90 s");
        }
        thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "tests/browser/cors.mjs failed ({}):\n{stderr}{stdout}", output.status);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("tests/browser/cors.mjs printed no JSON ({e}):\n{stdout}\n{stderr}"))
}

/// The upstream: a JSON document per method, with the rate-limit header the relay may expose.
fn upstream_reply(request: &Received) -> Reply {
    let body = match request.method.as_str() {
        "POST" => r#"{"data":{"id":2,"name":"Zo\u00eb","via":"POST"},"meta":{"remaining":8}}"#,
        _ => r#"{"data":{"id":1,"name":"Zo\u00eb","via":"GET"},"meta":{"remaining":9}}"#,
    };
    let remaining = if request.method == "POST" { "8" } else { "9" };
    let headers = vec![
        ("content-type", String::from("application/json")),
        ("x-ratelimit-remaining", String::from(remaining)),
        ("x-internal-trace", String::from("never-exposed")),
    ];
    Reply::Headers(200, headers, body.as_bytes().to_vec())
}

/// The relay's environment for a page at `origin`.
fn relay_env(upstream: &Upstream, origin: &str) -> Vec<(&'static str, String)> {
    vec![
        ("RELAY_UPSTREAM_URL", upstream.url("/api")),
        ("RELAY_FIELDS", String::from("id=/data/id,name=data.name,via=/data/via")),
        ("RELAY_CORS_ORIGINS", String::from(origin)),
        ("RELAY_FORWARD_HEADERS", String::from("authorization")),
        ("RELAY_RESPONSE_HEADERS", String::from("x-ratelimit-*")),
        ("RELAY_ALLOWED_METHODS", String::from("GET,POST")),
    ]
}

/// A browser refuses an `access-control-allow-origin` given twice ("contains multiple values"),
/// even twice the same: the rule Chromium applies below, checked on the raw answers (a header
/// lookup that takes the first match cannot see it), so it runs where no browser is installed.
#[test]
fn each_cors_header_comes_once() {
    let upstream = Upstream::start(upstream_reply);
    let origin = "http://127.0.0.1:4000";
    let relay = Serve::start("edge_relay.wasm", &relay_env(&upstream, origin));
    let preflight =
        [("origin", origin), ("access-control-request-method", "POST"), ("access-control-request-headers", "authorization,content-type")];
    let simple = [("origin", origin)];
    for (method, headers) in [("OPTIONS", &preflight[..]), ("GET", &simple[..])] {
        let answer = request(relay.port, method, "/", headers, b"");
        let count = |name: &str| answer.headers.iter().filter(|(n, _)| n == name).count();
        assert_eq!((count("access-control-allow-origin"), count("vary")), (1, 1), "{method}: {:#?}", answer.headers);
        assert!(count("access-control-expose-headers") <= 1, "{method}: {:#?}", answer.headers);
        if method == "OPTIONS" {
            assert_eq!(answer.status, 204);
            for name in ["access-control-allow-methods", "access-control-allow-headers", "access-control-max-age"] {
                assert_eq!(count(name), 1, "{name} in {:#?}", answer.headers);
            }
            // A preflight relays no upstream header, so it has none to expose.
            assert_eq!(count("access-control-expose-headers"), 0, "{:#?}", answer.headers);
        } else {
            assert_eq!(answer.header("access-control-expose-headers"), Some("x-ratelimit-remaining"));
        }
    }
    assert!(upstream.received().iter().all(|r| r.method != "OPTIONS"), "a preflight reached the upstream");
}

#[test]
fn a_browser_reads_the_relay_from_an_allowed_origin_and_is_refused_elsewhere() {
    let missing = missing_browser_tools();
    if !missing.is_empty() {
        let what = format!("the browser test needs {} (scripts/setup installs them)", missing.join(", "));
        if std::env::var("EDGE_RELAY_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("EDGE_RELAY_REQUIRE_BROWSER=1 but {what}");
        }
        // Straight to stderr, past the test harness's capture, so that a skip is seen.
        let _ = writeln!(std::io::stderr(), "skipped: {what}");
        return;
    }

    let upstream = Upstream::start(upstream_reply);
    let allowed_page = page_server();
    let other_page = page_server();
    assert_ne!(allowed_page, other_page, "two ports, two origins");
    let relay = Serve::start("edge_relay.wasm", &relay_env(&upstream, &allowed_page));
    let relay_url = format!("http://127.0.0.1:{}/", relay.port);

    let started = Instant::now();
    let seen = drive_browser(&relay_url, &format!("{allowed_page}/"), &format!("{other_page}/"));
    eprintln!("{} in {:?}: {seen}", seen["browser"], started.elapsed());
    let pages = seen["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2, "{seen}");
    let (allowed, other) = (&pages[0], &pages[1]);
    assert_eq!(allowed["origin"], allowed_page.as_str(), "{seen}");
    assert_eq!(other["origin"], other_page.as_str(), "{seen}");

    // The allowed origin reads both answers, byte for byte, and the exposed header.
    let read = |result: &Value, body: &str, remaining: &str| {
        let expected = serde_json::json!({ "status": 200, "body": body, "ratelimit": remaining });
        assert_eq!(result, &expected, "from {allowed_page}: {seen}\nrelay log:\n{}", relay.log());
    };
    read(&allowed["get"], r#"{"id":1,"name":"Zo\u00eb","via":"GET"}"#, "9");
    read(&allowed["post"], r#"{"id":2,"name":"Zo\u00eb","via":"POST"}"#, "8");

    let sent = upstream.received();
    let methods: Vec<&str> = sent.iter().map(|r| r.method.as_str()).collect();
    assert!(!methods.contains(&"OPTIONS"), "a preflight reached the upstream: {methods:?}");
    let posts: Vec<&Received> = sent.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1, "one POST went upstream, the allowed page's: {methods:?}");
    let post = posts[0];
    assert_eq!(post.header("authorization"), Some("Bearer browser-token"), "the forwarded header: {post:?}");
    assert_eq!(post.header("origin"), None, "only listed headers go upstream: {post:?}");
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(body, serde_json::json!({ "from": allowed_page }));

    // The other origin: the browser withholds both answers from the page (a TypeError, the one
    // error fetch gives for a CORS block) and says why on the console.
    for (what, result) in [("GET", &other["get"]), ("POST", &other["post"])] {
        assert_eq!(result["error"]["name"], "TypeError", "{what} from {other_page} was not blocked: {seen}");
        assert!(result.get("status").is_none(), "{what} from {other_page}: the page saw a status: {seen}");
    }
    let console: Vec<&str> = other["console"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(console.iter().any(|m| m.contains("CORS policy")), "no CORS message on the console: {console:?}");
    assert!(allowed["console"].as_array().unwrap().is_empty(), "the allowed page logged errors: {seen}");
    // Its simple GET did go through the relay (a browser sends those and then hides the answer);
    // its POST stopped at the refused preflight, which the relay answered itself.
    assert_eq!(methods, ["GET", "POST", "GET"], "what the upstream received, in order");
}

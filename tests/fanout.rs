//! Issue 13: several upstreams in one answer, fetched concurrently (`RELAY_UPSTREAMS`), merged by
//! the shape, under each failure policy. dist/edge_relay.wasm under `wasmtime serve`, against
//! loopback upstreams that record what they received and when.

mod support;

use std::time::Duration;

use support::{json, request, Reply, Serve, Upstream};

const COMPONENT: &str = "edge_relay.wasm";

const SHAPE: &str = r#"{name: $profile.name, orders: [$orders.items[] | {id, total}], unread: ($notes.items | length), city: $query.city}"#;

fn fan_out(profile: &Upstream, orders: &Upstream, notes: &Upstream, extra: &[(&'static str, &str)]) -> Serve {
    fan_out_under(&[], profile, orders, notes, extra)
}

/// [`fan_out`] with more `wasmtime serve` flags.
fn fan_out_under(flags: &[&str], profile: &Upstream, orders: &Upstream, notes: &Upstream, extra: &[(&'static str, &str)]) -> Serve {
    let mut env = vec![
        ("RELAY_ROUTE", String::from("/screen/{user}")),
        ("RELAY_UPSTREAMS", String::from("profile,orders,notes")),
        ("RELAY_PROFILE_URL", profile.url("/users/{user}")),
        ("RELAY_ORDERS_URL", orders.url("/orders?user={user}")),
        ("RELAY_NOTES_URL", notes.url("/notes/{user}")),
        ("RELAY_SHAPE", String::from(SHAPE)),
        ("RELAY_FORWARD_HEADERS", String::from("authorization")),
    ];
    // A setting given in `extra` replaces the one above (wasmtime keeps the first of a name).
    env.retain(|(name, _)| !extra.iter().any(|(other, _)| other == name));
    env.extend(extra.iter().map(|(name, value)| (*name, value.to_string())));
    Serve::start_with(COMPONENT, flags, &env)
}

fn slow(pause_ms: u64, body: &'static str) -> Upstream {
    Upstream::start(move |_| Reply::Slow(Duration::from_millis(pause_ms), 200, body.as_bytes().to_vec()))
}

const PROFILE: &str = r#"{"id":"7","name":"Zo\u00eb","email":"z@example.com"}"#;
const ORDERS: &str = r#"{"items":[{"id":1,"total":10.50,"lines":[1,2]},{"id":12345678901234567890,"total":1.0e+2}]}"#;
const NOTES: &str = r#"{"items":[{"t":"a"},{"t":"b"},{"t":"c"}]}"#;

#[test]
fn three_upstreams_are_fetched_at_once_and_merged() {
    let (profile, orders, notes) = (slow(400, PROFILE), slow(400, ORDERS), slow(400, NOTES));
    let relay = fan_out(&profile, &orders, &notes, &[]);
    let answer = request(relay.port, "GET", "/screen/7?city=Oslo", &[("authorization", "Bearer t")], b"");
    answer.assert(
        200,
        r#"{"name":"Zo\u00eb","orders":[{"id":1,"total":10.50},{"id":12345678901234567890,"total":1.0e+2}],"unread":3,"city":"Oslo"}"#,
    );
    let sent: Vec<_> = [&profile, &orders, &notes].iter().map(|u| u.received().remove(0)).collect();
    let targets: Vec<&str> = sent.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["/users/7", "/orders?user=7", "/notes/7"]);
    assert!(sent.iter().all(|r| r.method == "GET" && r.header("authorization") == Some("Bearer t")));
    // Each upstream answers 400 ms after it is asked: asked one after another, the requests would
    // arrive 400 ms apart; all went out before any answer.
    let first = sent.iter().map(|r| r.at).min().unwrap();
    let last = sent.iter().map(|r| r.at).max().unwrap();
    assert!(last - first < Duration::from_millis(300), "the requests did not overlap: {:?} apart", last - first);
}

#[test]
fn a_failing_upstream_fails_the_request_or_is_null_as_configured() {
    let (profile, notes) = (slow(0, PROFILE), slow(0, NOTES));
    let orders = Upstream::start(|_| json(404, r#"{"error":"no such user"}"#));
    let relay = fan_out(&profile, &orders, &notes, &[]);
    request(relay.port, "GET", "/screen/7", &[], b"").assert(
        404,
        r#"{"error":{"code":"upstream_status","message":"upstream orders: the upstream answered with status 404","status":404,"upstream":"orders"}}"#,
    );
    let relay = fan_out(&profile, &orders, &notes, &[("RELAY_PARTIAL", "null")]);
    let answer = request(relay.port, "GET", "/screen/7", &[], b"");
    // `$orders` is null: `[null[] | ...]` fails as in jq, so this shape guards it with `?`.
    assert_eq!(answer.status, 502, "{answer:?}");
    let guarded = SHAPE.replace("$orders.items[]", "$orders.items[]?");
    let relay = fan_out(&profile, &orders, &notes, &[("RELAY_PARTIAL", "null"), ("RELAY_SHAPE", &guarded)]);
    let answer = request(relay.port, "GET", "/screen/7", &[], b"");
    answer.assert(200, r#"{"name":"Zo\u00eb","orders":[],"unread":3,"city":null}"#);
    assert_eq!(answer.header("x-relay-failed"), Some("orders"));
}

#[test]
fn a_slow_upstream_runs_into_the_deadline_and_is_named() {
    let (profile, notes) = (slow(0, PROFILE), slow(0, NOTES));
    let orders = slow(5_000, ORDERS);
    let relay = fan_out(&profile, &orders, &notes, &[("RELAY_DEADLINE_MS", "1000")]);
    let started = std::time::Instant::now();
    let answer = request(relay.port, "GET", "/screen/7", &[], b"");
    assert!(started.elapsed() < Duration::from_secs(4));
    answer.assert(
        504,
        r#"{"error":{"code":"upstream_timeout","message":"upstream orders: the upstream did not answer within 1000 ms","upstream":"orders"}}"#,
    );
}

#[test]
fn bodies_interleaved_in_small_chunks_keep_their_scanners_apart() {
    // Three documents, a byte every 2 ms each, with the same keys at different depths.
    let trickle = |body: &'static str| Upstream::start(move |_| Reply::Trickle(Duration::from_millis(2), body.as_bytes().to_vec()));
    let profile = trickle(r#"{"name":"p","items":[{"id":"x","total":0}]}"#);
    let orders = trickle(r#"{"items":[{"id":1,"total":2},{"name":"q","id":3,"total":4}],"name":"o"}"#);
    let notes = trickle(r#"{"items":{"a":1,"b":[2]},"name":{"n":"x"}}"#);
    let relay = fan_out(&profile, &orders, &notes, &[]);
    request(relay.port, "GET", "/screen/7", &[], b"")
        .assert(200, r#"{"name":"p","orders":[{"id":1,"total":2},{"id":3,"total":4}],"unread":2,"city":null}"#);
}

#[test]
fn several_upstreams_need_a_shape_and_names_that_are_variables() {
    let (profile, orders, notes) = (slow(0, PROFILE), slow(0, ORDERS), slow(0, NOTES));
    for (extra, problem) in [
        (vec![("RELAY_UPSTREAMS", "profile,Orders")], "RELAY_UPSTREAMS: must be distinct lower-case names"),
        (vec![("RELAY_UPSTREAMS", "profile,query")], "RELAY_UPSTREAMS: must be distinct lower-case names"),
        (vec![("RELAY_SHAPE", "{a: $other}")], "RELAY_SHAPE: $other is not defined"),
        (vec![("RELAY_PARTIAL", "maybe")], "RELAY_PARTIAL: must be fail or null"),
    ] {
        let relay = fan_out(&profile, &orders, &notes, &extra);
        request(relay.port, "GET", "/screen/7", &[], b"")
            .assert(500, r#"{"error":{"code":"config","message":"the relay is misconfigured"}}"#);
        assert!(relay.log().contains(problem), "{problem}: {}", relay.log());
    }
    assert!(profile.received().is_empty() && orders.received().is_empty());
}

#[test]
fn the_command_merges_several_upstreams_too() {
    let (profile, orders, notes) = (slow(300, PROFILE), slow(300, ORDERS), slow(300, NOTES));
    let shape = "{name: $profile.name, orders: [$orders.items[] | .id], unread: ($notes.items | length)}";
    let (p, o, n) =
        (format!("profile={}", profile.url("/p")), format!("orders={}", orders.url("/o")), format!("notes={}", notes.url("/n")));
    let args = ["--upstream", &p, "--upstream", &o, "--upstream", &n, "--shape", shape];
    let out = support::run("edge_relay_cli.wasm", &[], &args, b"");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{\"name\":\"Zo\\u00eb\",\"orders\":[1,12345678901234567890],\"unread\":3}\n");
    let sent: Vec<_> = [&profile, &orders, &notes].iter().map(|u| u.received().remove(0).at).collect();
    let spread = *sent.iter().max().unwrap() - *sent.iter().min().unwrap();
    assert!(spread < Duration::from_millis(200), "the requests did not overlap: {spread:?} apart");
    // The first to fail is the error, named; its exit code is its error's.
    let missing = Upstream::start(|_| json(404, "{}"));
    let out = support::run(
        "edge_relay_cli.wasm",
        &[],
        &["--upstream", &format!("a={}", missing.url("/")), "--upstream", &format!("b={}", notes.url("/")), "--shape", "[$a, $b]"],
        b"",
    );
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "edge-relay: upstream a: the upstream answered with status 404\n");
}

#[test]
fn each_upstream_may_have_its_method_and_request_shape() {
    let (profile, orders, notes) = (slow(0, PROFILE), slow(0, ORDERS), slow(0, NOTES));
    let extra = [
        ("RELAY_ORDERS_METHOD", "POST"),
        ("RELAY_ORDERS_REQUEST_SHAPE", r#"{user: $params.user, limit: (.limit // 5)}"#),
        ("RELAY_NOTES_METHOD", "POST"),
        ("RELAY_ALLOWED_METHODS", "GET,POST"),
    ];
    let relay = fan_out(&profile, &orders, &notes, &extra);
    request(relay.port, "POST", "/screen/7", &[], br#"{"limit":2}"#).assert(
        200,
        r#"{"name":"Zo\u00eb","orders":[{"id":1,"total":10.50},{"id":12345678901234567890,"total":1.0e+2}],"unread":3,"city":null}"#,
    );
    let (p, o, n) = (profile.received().remove(0), orders.received().remove(0), notes.received().remove(0));
    assert_eq!(
        (p.method.as_str(), p.body.as_slice()),
        ("POST", &br#"{"limit":2}"#[..]),
        "the client's method and body, as for one upstream"
    );
    assert_eq!((o.method.as_str(), String::from_utf8_lossy(&o.body).as_ref()), ("POST", r#"{"user":"7","limit":2}"#));
    assert_eq!((n.method.as_str(), n.body.as_slice()), ("POST", &br#"{"limit":2}"#[..]));
}

#[test]
fn a_huge_upstream_costs_only_what_the_shape_reads_of_it() {
    // 20 MB of orders through a relay given 8 MiB of linear memory: the shape reads one id of it.
    let mut huge = String::from(r#"{"items":["#);
    for i in 0..300_000 {
        huge.push_str(&format!(
            r#"{}{{"id":{i},"total":1.50,"lines":[1,2,3],"note":"an order of some length"}}"#,
            if i > 0 { "," } else { "" }
        ));
    }
    huge.push_str(r#"],"name":"o"}"#);
    assert!(huge.len() > 20_000_000, "{}", huge.len());
    let (profile, notes) = (slow(0, PROFILE), slow(0, NOTES));
    let orders = Upstream::start(move |_| json(200, &huge));
    let shape = "{name: $profile.name, last: $orders.items[299999].id, of: $orders.name, unread: ($notes.items | length)}";
    let extra = [("RELAY_SHAPE", shape), ("RELAY_MAX_RESPONSE_BYTES", "100000000"), ("RELAY_DEADLINE_MS", "20000")];
    let relay = fan_out_under(&["-W", "max-memory-size=8388608"], &profile, &orders, &notes, &extra);
    request(relay.port, "GET", "/screen/7", &[], b"").assert(200, r#"{"name":"Zo\u00eb","last":299999,"of":"o","unread":3}"#);
    // An iteration over it streams: one order at a time in the same 8 MiB (the array is 20 MB).
    let shape = "{name: $profile.name, totals: [$orders.items[] | select(.id == 7 or .id == 299998) | {id, total}], of: $orders.name}";
    let extra = [("RELAY_SHAPE", shape), ("RELAY_MAX_RESPONSE_BYTES", "100000000"), ("RELAY_DEADLINE_MS", "20000")];
    let relay = fan_out_under(&["-W", "max-memory-size=8388608"], &profile, &orders, &notes, &extra);
    request(relay.port, "GET", "/screen/7", &[], b"")
        .assert(200, r#"{"name":"Zo\u00eb","totals":[{"id":7,"total":1.50},{"id":299998,"total":1.50}],"of":"o"}"#);
}

fn redirect(status: u16, location: &str) -> Reply {
    Reply::Headers(status, vec![("location", String::from(location))], Vec::new())
}

/// Each upstream follows its redirects as the single one does: on its origin, at most three,
/// 303 (and 301 or 302 after a POST) as a GET without the body, 307 and 308 keeping both; a
/// redirect elsewhere, or a fourth, is that upstream's `upstream_status`.
#[test]
fn each_upstream_follows_its_redirects_on_its_origin() {
    let profile = Upstream::start(|r| if r.target == "/users/7" { redirect(301, "/v2/users/7") } else { json(200, PROFILE) });
    let orders = Upstream::start(|r| if r.target == "/orders?user=7" { redirect(303, "/orders/result") } else { json(200, ORDERS) });
    let notes = Upstream::start(|r| match r.target.as_str() {
        "/notes/7" => redirect(307, "/notes/7/kept"),
        "/away" => redirect(302, "http://127.0.0.1:1/notes"),
        "/loop1" => redirect(302, "/loop2"),
        "/loop2" => redirect(308, "/loop3"),
        "/loop3" => redirect(302, "/loop4"),
        "/loop4" => redirect(302, "/loop1"),
        _ => json(200, NOTES),
    });
    let relay = fan_out(&profile, &orders, &notes, &[]);
    let answer = request(relay.port, "POST", "/screen/7", &[], br#"{"b":1}"#);
    answer.assert(
        200,
        r#"{"name":"Zo\u00eb","orders":[{"id":1,"total":10.50},{"id":12345678901234567890,"total":1.0e+2}],"unread":3,"city":null}"#,
    );
    let seen = |upstream: &Upstream| -> Vec<(String, String, usize)> {
        upstream.received().iter().map(|r| (r.method.clone(), r.target.clone(), r.body.len())).collect()
    };
    let owned = |list: &[(&str, &str, usize)]| -> Vec<(String, String, usize)> {
        list.iter().map(|(m, t, n)| (m.to_string(), t.to_string(), *n)).collect()
    };
    assert_eq!(seen(&profile), owned(&[("POST", "/users/7", 7), ("GET", "/v2/users/7", 0)]));
    assert_eq!(seen(&orders), owned(&[("POST", "/orders?user=7", 7), ("GET", "/orders/result", 0)]));
    assert_eq!(seen(&notes), owned(&[("POST", "/notes/7", 7), ("POST", "/notes/7/kept", 7)]));

    let status_302 = r#"{"error":{"code":"upstream_status","message":"upstream notes: the upstream answered with status 302","status":302,"upstream":"notes"}}"#;
    for path in ["/away", "/loop1"] {
        let relay = fan_out(&profile, &orders, &notes, &[("RELAY_NOTES_URL", &notes.url(path))]);
        request(relay.port, "GET", "/screen/7", &[], b"").assert(502, status_302);
    }
    let loops = notes.received().iter().filter(|r| r.target.starts_with("/loop")).count();
    assert_eq!(loops, 4, "the first request and 3 redirects");
}

/// An upstream's iteration streams, and its errors are the program's: under `RELAY_PARTIAL=null`
/// too they fail the request, naming the upstream (only the upstream's own failures make its
/// document `null`). An upstream without a document (a 204) is `null` to its iterations.
#[test]
fn a_streamed_iterations_error_is_the_programs_under_either_policy() {
    let (profile, notes) = (slow(0, PROFILE), slow(0, NOTES));
    let orders = Upstream::start(|r| {
        if r.target.starts_with("/orders?") {
            json(200, r#"{"items":[{"id":1},7]}"#)
        } else {
            Reply::Headers(204, vec![], vec![])
        }
    });
    let shape = "{name: $profile.name, ids: [$orders.items[]? | .id]}";
    let error = r#"{"error":{"code":"upstream_shape","message":"upstream orders: the upstream's answer does not fit the shape: `.\"id\"` cannot be applied to a number","upstream":"orders"}}"#;
    for partial in ["fail", "null"] {
        let relay = fan_out(&profile, &orders, &notes, &[("RELAY_PARTIAL", partial), ("RELAY_SHAPE", shape)]);
        request(relay.port, "GET", "/screen/7", &[], b"").assert(502, error);
        // The 204: its iterations meet `null`, as jq's would.
        let relay = fan_out(
            &profile,
            &orders,
            &notes,
            &[("RELAY_PARTIAL", partial), ("RELAY_SHAPE", shape), ("RELAY_ORDERS_URL", &orders.url("/empty"))],
        );
        request(relay.port, "GET", "/screen/7", &[], b"").assert(200, r#"{"name":"Zo\u00eb","ids":[]}"#);
        let unguarded = shape.replace("[]?", "[]");
        let relay = fan_out(
            &profile,
            &orders,
            &notes,
            &[("RELAY_PARTIAL", partial), ("RELAY_SHAPE", &unguarded), ("RELAY_ORDERS_URL", &orders.url("/empty"))],
        );
        let answer = request(relay.port, "GET", "/screen/7", &[], b"");
        assert_eq!(answer.status, 502, "{answer:?}");
        assert!(answer.body.contains("`.[]` cannot be applied to a null") && answer.body.contains(r#""upstream":"orders""#), "{answer:?}");
    }
}

//! Issue 12: `RELAY_SHAPE` in the HTTP component under `wasmtime serve`, and the command as a
//! streaming jq (`--shape`, `--input`, stdin) under `wasmtime run`: answers byte for byte, jq's
//! errors as 502 `upstream_shape` (exit 5 for the command), and memory that follows what the
//! answer keeps, not the document.

mod support;

use support::{json, request, run, Serve, Upstream};

const COMPONENT: &str = "edge_relay.wasm";
const CLI: &str = "edge_relay_cli.wasm";

const DOCUMENT: &str = r#"{"items":[{"id":1,"name":"a","kind":"a","price":1.0e+2},{"id":2,"name":"b","kind":"b"},{"id":12345678901234567890123456789,"name":"caf\u00e9","kind":"a"}],"count":3,"user":{"id":"u1"}}"#;

fn shaped(program: &str, extra: &[(&'static str, &str)]) -> (Upstream, Serve) {
    let upstream = Upstream::start(|_| json(200, DOCUMENT));
    let mut env = vec![("RELAY_UPSTREAM_URL", upstream.url("/search")), ("RELAY_SHAPE", program.to_string())];
    env.extend(extra.iter().map(|(name, value)| (*name, value.to_string())));
    let relay = Serve::start(COMPONENT, &env);
    (upstream, relay)
}

#[test]
fn the_answer_is_built_by_the_shape_with_the_upstreams_bytes() {
    let (_upstream, relay) = shaped(
        r#"{user: {id: .user.id}, count, kinds: [.items[] | select(.kind == "a") | {id, name}], first: .items[0].price, none: (.missing // "default")}"#,
        &[],
    );
    let answer = request(relay.port, "GET", "/", &[], b"");
    answer.assert(
        200,
        r#"{"user":{"id":"u1"},"count":3,"kinds":[{"id":1,"name":"a"},{"id":12345678901234567890123456789,"name":"caf\u00e9"}],"first":1.0e+2,"none":"default"}"#,
    );
}

#[test]
fn query_and_route_placeholders_are_variables() {
    let (upstream, relay) =
        shaped(r#"{id: $params.id, city: $query.city, missing: $query.nope, n: (.items | length)}"#, &[("RELAY_ROUTE", "/users/{id}")]);
    request(relay.port, "GET", "/users/7?city=Oslo%20Sentrum&x=%FF", &[], b"")
        .assert(200, r#"{"id":"7","city":"Oslo Sentrum","missing":null,"n":3}"#);
    assert_eq!(upstream.received().len(), 1);
}

#[test]
fn a_step_that_does_not_fit_the_document_is_a_502_naming_it() {
    let (_upstream, relay) = shaped("{a: .count.x}", &[]);
    request(relay.port, "GET", "/", &[], b"").assert(
        502,
        r#"{"error":{"code":"upstream_shape","message":"the upstream's answer does not fit the shape: `.\"x\"` cannot be applied to a number"}}"#,
    );
    let (_upstream, relay) = shaped("[.items[] | .name[]]", &[]);
    let answer = request(relay.port, "GET", "/", &[], b"");
    assert_eq!(answer.status, 502, "{answer:?}");
    assert!(answer.body.contains("upstream_shape") && answer.body.contains("cannot be applied to a string"), "{answer:?}");
    // `?` says otherwise, as in jq.
    let (_upstream, relay) = shaped("{a: (.count.x? // null), b: [.items[] | .name[]?]}", &[]);
    let answer = request(relay.port, "GET", "/", &[], b"");
    assert_eq!((answer.status, answer.body.as_str()), (200, r#"{"a":null,"b":[]}"#), "{answer:?}");
}

#[test]
fn a_program_outside_the_subset_or_yielding_several_values_is_a_config_error() {
    for (program, problem) in [
        (".items[] | .id", "RELAY_SHAPE: may yield several values or none: wrap it in [ ]"),
        ("reduce .[] as $x (0; . + $x)", "RELAY_SHAPE: `reduce` is not supported (column 1)"),
        ("{a: $other}", "RELAY_SHAPE: $other is not defined"),
    ] {
        let (upstream, relay) = shaped(program, &[]);
        let answer = request(relay.port, "GET", "/", &[], b"");
        answer.assert(500, r#"{"error":{"code":"config","message":"the relay is misconfigured"}}"#);
        assert!(relay.log().contains(problem), "{program}: {}", relay.log());
        assert!(upstream.received().is_empty());
    }
    let (_upstream, relay) = shaped(".count", &[("RELAY_FIELDS", "a")]);
    request(relay.port, "GET", "/", &[], b"").assert(500, r#"{"error":{"code":"config","message":"the relay is misconfigured"}}"#);
    assert!(relay.log().contains("RELAY_SHAPE: is set with RELAY_FIELDS, its shorthand: keep one"), "{}", relay.log());
}

/// `n` objects, every other one of kind "a": about 60 bytes each.
fn big_array(n: usize) -> String {
    let mut text = String::from("[");
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"id":{i},"kind":"{}","name":"item number {i}","tags":["x","y"]}}"#,
            if i % 2 == 0 { "a" } else { "b" }
        ));
    }
    text.push(']');
    text
}

#[test]
fn a_document_larger_than_the_memory_is_shaped_element_by_element() {
    // 24 MB of upstream answer through a relay given 8 MiB of linear memory: the answer keeps
    // one id in two (about 2 MB), the elements come and go.
    let document = big_array(400_000);
    assert!(document.len() > 24_000_000);
    let expected: Vec<String> = (0..400_000).step_by(2).map(|i| i.to_string()).collect();
    let expected = format!("[{}]", expected.join(","));
    let upstream = Upstream::start(move |_| json(200, &document));
    let env = vec![
        ("RELAY_UPSTREAM_URL", upstream.url("/")),
        ("RELAY_SHAPE", String::from(r#"[.[] | select(.kind == "a") | .id]"#)),
        ("RELAY_MAX_RESPONSE_BYTES", String::from("100000000")),
    ];
    let relay = Serve::start_with(COMPONENT, &["-W", "max-memory-size=8388608"], &env);
    let answer = request(relay.port, "GET", "/", &[], b"");
    assert_eq!(answer.status, 200, "{}", &answer.body[..answer.body.len().min(300)]);
    assert!(answer.body == expected, "answer of {} bytes differs", answer.body.len());
}

#[test]
fn the_command_is_a_streaming_jq_on_stdin_and_files() {
    let out = run(CLI, &[], &["--shape", ".items[] | {id, kind}"], DOCUMENT.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"id\":1,\"kind\":\"a\"}\n{\"id\":2,\"kind\":\"b\"}\n{\"id\":12345678901234567890123456789,\"kind\":\"a\"}\n"
    );
    let raw = run(CLI, &[], &["--raw", "--shape", ".items[2].name, .count"], DOCUMENT.as_bytes());
    assert_eq!(String::from_utf8_lossy(&raw.stdout), "café\n3\n");

    let dir = std::env::temp_dir().join(format!("edge-relay-shape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("big.json"), big_array(100_000)).unwrap();
    let dir_arg = format!("{}::/data", dir.display());
    // The 6.7 MB file through 4 MiB of linear memory.
    let shape_file = |program: &str| {
        let out = run(CLI, &["--dir", &dir_arg, "-W", "max-memory-size=4194304"], &["--shape", program, "--input", "/data/big.json"], b"");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // `[...] | length` is outside the subset: the left of | must be a path.
    assert_eq!(shape_file("[.[] | select(.kind == \"b\") | .id] | length").0, Some(2));
    assert_eq!(shape_file(".[99999].name"), (Some(0), String::from("\"item number 99999\"\n"), String::new()));
    let expected: Vec<String> = (1..100_000).step_by(2).map(|i| i.to_string()).collect();
    let ids = shape_file("[.[] | select(.kind == \"b\") | .id]");
    assert_eq!(ids, (Some(0), format!("[{}]\n", expected.join(",")), String::new()));
    std::fs::remove_dir_all(&dir).unwrap();

    // jq's run-time error: exit 5, one line naming the step; invalid JSON: exit 3.
    let error = run(CLI, &[], &["--shape", ".count[0]"], DOCUMENT.as_bytes());
    assert_eq!(error.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&error.stderr).contains("`.[0]` cannot be applied to a number"),
        "{}",
        String::from_utf8_lossy(&error.stderr)
    );
    assert_eq!(run(CLI, &[], &["--shape", "."], b"{\"a\":").status.code(), Some(3));
}

#[test]
fn a_request_shape_builds_the_upstreams_body() {
    let upstream = Upstream::start(|_| json(200, r#"{"temp":-3.5}"#));
    let env = vec![
        ("RELAY_ROUTE", String::from("/weather/{country}")),
        ("RELAY_UPSTREAM_URL", upstream.url("/forecast")),
        ("RELAY_METHOD", String::from("POST")),
        ("RELAY_REQUEST_SHAPE", String::from(r#"{q: $query.city, country: $params.country, units: "metric", limit: (.limit // 10)}"#)),
        ("RELAY_FIELDS", String::from("temp")),
    ];
    let relay = Serve::start(COMPONENT, &env);
    // A GET has no body: the shape reads null.
    request(relay.port, "GET", "/weather/no?city=Oslo", &[], b"").assert(200, r#"{"temp":-3.5}"#);
    request(relay.port, "POST", "/weather/no?city=Bergen", &[], br#"{"limit": 3, "other": true}"#).assert(200, r#"{"temp":-3.5}"#);
    let sent = upstream.received();
    let bodies: Vec<String> = sent.iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
    assert_eq!(
        bodies,
        [r#"{"q":"Oslo","country":"no","units":"metric","limit":10}"#, r#"{"q":"Bergen","country":"no","units":"metric","limit":3}"#]
    );
    assert!(sent.iter().all(|r| r.method == "POST"));
    // A body the shape cannot read is the client's error, and never reaches the upstream.
    let answer = request(relay.port, "POST", "/weather/no?city=x", &[], b"[1]");
    answer.assert(
        400,
        r#"{"error":{"code":"request_shape","message":"the request body does not fit the shape: `.\"limit\"` cannot be applied to an array"}}"#,
    );
    assert_eq!(upstream.received().len(), 2);
}

/// A program's depth is the evaluator's stack: however a program nests (paths, pipes, `==`,
/// objects of many entries), it is refused when parsed or stops with an error, never a trap
/// (exit 134). Found by a differential run against jq: 253 steps, and an object of 100 entries
/// of three steps each, overflowed the 64 KiB stack.
#[test]
fn deep_programs_end_in_an_error_never_a_trap() {
    let mut document = String::from("1");
    for _ in 0..40 {
        document = format!("[{document}]");
    }
    for _ in 0..2500 {
        document = format!("{{\"a\":{document}}}");
    }
    let shape = |program: &str| {
        let out = run(CLI, &[], &["--shape", program], document.as_bytes());
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // An object of a thousand entries is built whole.
    let entries: Vec<String> = (0..1000).map(|i| format!("k{i}: .a.a.a")).collect();
    let out = run(CLI, &[], &["--shape", &format!("{{{}}}", entries.join(", "))], br#"{"a":{"a":{"a":7}}}"#);
    let expected: Vec<String> = (0..1000).map(|i| format!("\"k{i}\":7")).collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{{{}}}\n", expected.join(",")));
    // A path of 32 steps is read; 33 or 253 are refused as they are parsed.
    let (code, out, _) = shape(&format!("{} | type", ".a".repeat(32)));
    assert_eq!((code, out.as_str()), (Some(0), "\"object\"\n"));
    for steps in [33, 253] {
        let (code, _, error) = shape(&".a".repeat(steps));
        assert_eq!(code, Some(2), "{error}");
        assert!(error.contains("the program is nested too deeply"), "{error}");
    }
    // Pipes nest too: evaluating stops where the stack's reserve begins.
    for program in [
        vec![".a".repeat(31); 64].join(" | "),
        String::from("[").repeat(20) + &vec![".a".repeat(12); 64].join(" | ") + &"]".repeat(20),
        vec![".a".repeat(8); 60].join(" | ") + " | (type == \"object\")",
    ] {
        let (code, _, error) = shape(&program);
        assert_eq!(code, Some(5), "{error}");
        assert!(error.contains("the program nests too deeply to evaluate (its stack is full)"), "{error}");
    }
    // What fits in the stack still runs: `==` at the end of 180 steps, 31 levels of [ ] around
    // 64 pipes.
    let (code, out, _) = shape(&(vec![".a".repeat(3); 60].join(" | ") + " | (type == \"object\")"));
    assert_eq!((code, out.as_str()), (Some(0), "true\n"));
    let (code, out, _) = shape(&(String::from("[").repeat(31) + &vec![".a"; 64].join(" | ") + " | type" + &"]".repeat(31)));
    assert_eq!((code, out.trim()), (Some(0), format!("{}\"object\"{}", "[".repeat(31), "]".repeat(31)).as_str()));

    // The HTTP component, which evaluates on the same stack: a 502 naming it, never a trap.
    let upstream = Upstream::start(move |_| json(200, &document));
    let program = vec![".a".repeat(31); 64].join(" | ");
    let relay = Serve::start(COMPONENT, &[("RELAY_UPSTREAM_URL", upstream.url("/")), ("RELAY_SHAPE", program)]);
    request(relay.port, "GET", "/", &[], b"").assert(
        502,
        r#"{"error":{"code":"upstream_shape","message":"the upstream's answer does not fit the shape: the program nests too deeply to evaluate (its stack is full)"}}"#,
    );
    let small = Upstream::start(|_| json(200, r#"{"a":{"a":{"a":7}}}"#));
    let entries: Vec<String> = (0..300).map(|i| format!("k{i}: .a.a.a")).collect();
    let relay = Serve::start(COMPONENT, &[("RELAY_UPSTREAM_URL", small.url("/")), ("RELAY_SHAPE", format!("{{{}}}", entries.join(", ")))]);
    let members: Vec<String> = (0..300).map(|i| format!("\"k{i}\":7")).collect();
    request(relay.port, "GET", "/", &[], b"").assert(200, &format!("{{{}}}", members.join(",")));
}

/// The command prints what `jq -c` prints, one output a line: a value copied from a
/// pretty-printed document loses the whitespace between its tokens, never its strings' own.
#[test]
fn the_commands_outputs_are_one_line_each() {
    let document = b"{\n  \"a\": [1,\n    2],\n  \"b\": { \"c d\" : \" e \\\" f \" },\n  \"n\": 1.0e+2\n}\n";
    let out = run(CLI, &[], &["--shape", ".a, .b, .n, ."], document);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "[1,2]\n{\"c d\":\" e \\\" f \"}\n1.0e+2\n{\"a\":[1,2],\"b\":{\"c d\":\" e \\\" f \"},\"n\":1.0e+2}\n"
    );
    let one = run(CLI, &[], &["--shape", "[.a[], .b]"], document);
    assert_eq!(String::from_utf8_lossy(&one.stdout), "[1,2,{\"c d\":\" e \\\" f \"}]\n");
}

/// A shape's values can outgrow any memory (`{a: .b[], c: .b[], d: .b[]}` is the cube of `.b`'s
/// length): the command ends with exit 6 and the error's line, the HTTP component answers 500
/// `out_of_memory` as JSON, never a trap. In the command this ran the heap to 4 GiB, whose end
/// wrapped to 0 and made every allocation after it fail (a stack overflow in the error's own).
#[test]
fn values_past_the_memory_end_in_an_error_never_a_trap() {
    let items: Vec<String> = (0..120).map(|i| i.to_string()).collect();
    let document = format!(r#"{{"b":[{}]}}"#, items.join(","));
    let cube = "[{a: .b[], c: .b[], d: .b[]}]";
    let out = run(CLI, &["-W", "max-memory-size=16777216"], &["--shape", cube], document.as_bytes());
    let error = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{error}");
    assert_eq!(error, "edge-relay: the answer does not fit in the relay's memory\n");
    assert!(out.stdout.is_empty());

    // `/small` answers two items: the request after the failed one is served as ever.
    let upstream = Upstream::start(move |received| json(200, if received.target == "/small" { r#"{"b":[1,2]}"# } else { &document }));
    let env =
        [("RELAY_UPSTREAM_URL", upstream.url("/{rest*}")), ("RELAY_ROUTE", String::from("/{rest*}")), ("RELAY_SHAPE", String::from(cube))];
    let relay = Serve::start_with(COMPONENT, &["-W", "max-memory-size=16777216"], &env);
    let answer = r#"{"error":{"code":"out_of_memory","message":"the answer does not fit in the relay's memory"}}"#;
    request(relay.port, "GET", "/large", &[], b"").assert(500, answer);
    let cubed: Vec<String> = (0..8).map(|i| format!(r#"{{"a":{},"c":{},"d":{}}}"#, 1 + i / 4, 1 + i / 2 % 2, 1 + i % 2)).collect();
    request(relay.port, "GET", "/small", &[], b"").assert(200, &format!("[{}]", cubed.join(",")));
}

/// A document read whole (`length` of it) is held once: read where the scanner captured it,
/// not copied into the sparse copy again. The 6.2 MB array (read from a file, 64 KiB at a time)
/// needs 18 MiB of linear memory now, 24 MiB before session 8; under 8 MiB it ends in the
/// memory's error.
#[test]
fn a_document_read_whole_is_held_once() {
    let items: Vec<String> = (0..900_000).map(|i| i.to_string()).collect();
    let dir = std::env::temp_dir().join(format!("edge-relay-whole-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("numbers.json"), format!("[{}]", items.join(","))).unwrap();
    let dir_arg = format!("{}::/data", dir.display());
    let length_within = |bytes: u32| {
        let memory = format!("max-memory-size={bytes}");
        let out = run(CLI, &["--dir", &dir_arg, "-W", &memory], &["--shape", "length", "--input", "/data/numbers.json"], b"");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    assert_eq!(length_within(20 << 20), (Some(0), String::from("900000\n"), String::new()));
    let memory_error = String::from("edge-relay: the answer does not fit in the relay's memory\n");
    assert_eq!(length_within(8 << 20), (Some(6), String::new(), memory_error));
    std::fs::remove_dir_all(&dir).unwrap();
}

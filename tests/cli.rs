//! dist/edge_relay_cli.wasm under a real `wasmtime run -S http`, against loopback upstreams.

mod support;

use std::process::Output;
use std::time::Duration;

use support::{json, run, Reply, Upstream};

const CLI: &str = "edge_relay_cli.wasm";

const DOCUMENT: &str =
    r#"{"data":{"id":12345678901234567890123456789,"name":"Caf\u00e9 \"Zo\u00eb\" 😀","items":[{"v":1.0e+2},{"v":-0.5}]},"ok":true}"#;

fn cli(args: &[&str]) -> Output {
    run(CLI, &[], args, b"")
}

#[track_caller]
fn assert_outcome(output: &Output, code: i32, stdout: &str, stderr: &str) {
    assert_eq!(String::from_utf8_lossy(&output.stdout), stdout, "stdout");
    assert_eq!(String::from_utf8_lossy(&output.stderr), stderr, "stderr");
    assert_eq!(output.status.code(), Some(code), "exit code");
}

#[test]
fn fields_come_out_as_one_json_line_byte_for_byte() {
    let upstream = Upstream::start(|_| json(200, DOCUMENT));
    let url = upstream.url("/v1/things?x=1");
    let output = cli(&[
        "--data",
        r#"{"q":"é"}"#,
        "--field",
        "id=/data/id",
        "--field",
        "data.name",
        "--field",
        "v=data.items.0.v",
        "--field",
        "gone=/nope",
        &url,
    ]);
    assert_outcome(
        &output,
        0,
        "{\"id\":12345678901234567890123456789,\"name\":\"Caf\\u00e9 \\\"Zo\\u00eb\\\" 😀\",\"v\":1.0e+2,\"gone\":null}\n",
        "",
    );
    let sent = upstream.received();
    assert_eq!((sent[0].method.as_str(), sent[0].target.as_str()), ("POST", "/v1/things?x=1"));
    assert_eq!(sent[0].body, r#"{"q":"é"}"#.as_bytes());
    assert_eq!(sent[0].header("content-length"), Some("10"));
    assert_eq!(sent[0].header("content-type"), Some("application/json"));
}

#[test]
fn raw_prints_one_unescaped_value_per_line() {
    let upstream = Upstream::start(|_| json(200, DOCUMENT));
    let output = cli(&["--raw", "--field", "data.name", "--field", "/data/id", "--field", "ok", "--field", "none", &upstream.url("/")]);
    assert_outcome(&output, 0, "Café \"Zoë\" 😀\n12345678901234567890123456789\ntrue\nnull\n", "");
}

#[test]
fn without_fields_the_whole_answer_is_printed() {
    let upstream = Upstream::start(|_| json(200, DOCUMENT));
    let output = cli(&[&upstream.url("/")]);
    assert_outcome(&output, 0, &format!("{DOCUMENT}\n"), "");
    assert_eq!(upstream.received()[0].method, "GET", "no --data means GET");
    assert_eq!(upstream.received()[0].header("content-length"), None);
}

#[test]
fn body_from_stdin_and_from_a_preopened_file() {
    let upstream = Upstream::start(|r| Reply::Send(200, "application/json", r.body.clone()));
    let stdin_output = run(CLI, &[], &["--data", "@-", "--field", "n=/n", &upstream.url("/")], br#"{"n":123456789012345678901234567890}"#);
    assert_outcome(&stdin_output, 0, "{\"n\":123456789012345678901234567890}\n", "");

    let dir = std::env::temp_dir().join(format!("edge-relay-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("in.json"), r#"{"k":["\u00e9"]}"#).unwrap();
    let mapping = format!("{}::/data", dir.display());
    let file_output = run(CLI, &["--dir", &mapping], &["--data", "@/data/in.json", "--field", "k.0", &upstream.url("/")], b"");
    assert_outcome(&file_output, 0, "{\"0\":\"\\u00e9\"}\n", "");
    let missing = run(CLI, &["--dir", &mapping], &["--data", "@/data/none.json", &upstream.url("/")], b"");
    assert_outcome(&missing, 2, "", "edge-relay: --data: /data/none.json cannot be opened\n");
    let outside = cli(&["--data", "@/etc/hostname", &upstream.url("/")]);
    assert_outcome(&outside, 2, "", "edge-relay: --data: /etc/hostname is not inside a directory given to wasmtime with --dir\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn method_and_headers_are_sent_as_given() {
    let upstream = Upstream::start(|_| json(200, "{}"));
    let output =
        cli(&["--method", "PATCH", "--header", "Authorization: Bearer t0k", "--header", "x-trace: 1", "--data", "[]", &upstream.url("/p")]);
    assert_outcome(&output, 0, "{}\n", "");
    let sent = &upstream.received()[0];
    assert_eq!(sent.method, "PATCH");
    assert_eq!(sent.header("authorization"), Some("Bearer t0k"));
    assert_eq!(sent.header("x-trace"), Some("1"));
}

#[test]
fn a_5_mb_answer_is_projected() {
    let big = format!(r#"{{"pad":"{}","tail":{{"id":42}}}}"#, "x".repeat(5 << 20));
    let upstream = Upstream::start(move |_| Reply::Send(200, "application/json", big.clone().into_bytes()));
    let output = cli(&["--field", "/tail/id", &upstream.url("/")]);
    assert_outcome(&output, 0, "{\"id\":42}\n", "");
    // The answer streams through: 1 MiB of linear memory is enough for 5 MiB of answer.
    let bounded = run(CLI, &["-W", "max-memory-size=1048576"], &["--field", "/tail/id", &upstream.url("/")], b"");
    assert_outcome(&bounded, 0, "{\"id\":42}\n", "");
    let limited = cli(&["--max-response-bytes", "1000", "--field", "/tail/id", &upstream.url("/")]);
    assert_outcome(&limited, 6, "", "edge-relay: the upstream's answer is larger than 1000 bytes\n");
}

#[test]
fn help_and_version() {
    let help = cli(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(
        text.starts_with("edge-relay: send JSON to an API") && text.contains("exit codes: 0 ok, 1 output not written, 2 usage"),
        "{text}"
    );
    assert_outcome(&cli(&["--version"]), 0, &format!("edge-relay {}\n", env!("CARGO_PKG_VERSION")), "");
}

#[test]
fn every_exit_code() {
    let ok = Upstream::start(|_| json(200, "{}"));
    let usage = cli(&["--bogus", &ok.url("/")]);
    assert_outcome(&usage, 2, "", "edge-relay: usage: unknown option --bogus\n");
    let no_url = cli(&[]);
    assert_outcome(&no_url, 2, "", "edge-relay: URL: is missing (see --help)\n");

    let bad_input = cli(&["--data", "{\"a\":", &ok.url("/")]);
    assert_outcome(
        &bad_input,
        3,
        "",
        "edge-relay: the request body is not valid JSON: the document ends before its value is complete at byte 5\n",
    );
    assert!(ok.received().is_empty(), "invalid input must not be sent");

    let not_json = Upstream::start(|_| Reply::Send(200, "text/plain", b"hello".to_vec()));
    assert_outcome(
        &cli(&[&not_json.url("/")]),
        3,
        "",
        "edge-relay: the upstream's answer is not valid JSON: unexpected character at byte 0\n",
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = cli(&[&format!("http://127.0.0.1:{port}/")]);
    assert_outcome(&refused, 4, "", "edge-relay: the upstream could not be reached: the connection was refused\n");

    let slow = Upstream::start(|_| Reply::Slow(Duration::from_secs(3), 200, b"{}".to_vec()));
    let timed_out = cli(&["--timeout-ms", "200", &slow.url("/")]);
    assert_outcome(&timed_out, 4, "", "edge-relay: the upstream did not answer within 200 ms\n");

    let missing = Upstream::start(|_| json(404, r#"{"error":"not found"}"#));
    assert_outcome(&cli(&[&missing.url("/")]), 5, "", "edge-relay: the upstream answered with status 404\n");
}

/// The answer is lost when stdout cannot take it (a full disk, a reader that went away): the exit
/// code and one line on stderr must say so, not 0 and silence.
#[test]
fn an_output_that_cannot_be_written_is_an_error() {
    use std::process::{Command, Stdio};
    let upstream = Upstream::start(|_| json(200, r#"{"a":"value"}"#));
    let url = upstream.url("/");
    let wasmtime = |stdout: Stdio| {
        Command::new("wasmtime")
            .args(["run", "-S", "http"])
            .arg(support::artifact(CLI))
            .args(["--field", "a", &url])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("wasmtime is not on PATH: run scripts/setup")
    };
    let full = wasmtime(std::fs::File::create("/dev/full").unwrap().into()).wait_with_output().unwrap();
    assert_outcome(&full, 1, "", "edge-relay: the output could not be written\n");
    // A pipe whose reader is gone.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let closed = wasmtime(writer.into()).wait_with_output().unwrap();
    assert_outcome(&closed, 1, "", "edge-relay: the output could not be written\n");
}

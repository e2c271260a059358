//! Every case of JSONTestSuite (vendored in tests/data/jsontestsuite/test_parsing): `y_`
//! accepted, `n_` rejected, and each `i_` case handled as the table below states; on the host,
//! and through the built HTTP component (what wasm-opt made of the scanner is what runs).

mod support;

use std::fs;
use std::path::PathBuf;

use edge_relay::json::{extract, validate};
use edge_relay::path::Path;
use support::{relay_env, request, Reply, Serve, Upstream};

/// The implementation-defined cases edge-relay accepts. Every other `i_` case is rejected: invalid
/// UTF-8 (anywhere), a byte-order mark, and UTF-16/32 encodings are refused, because a relay
/// copies values byte for byte and must never pass on text that is not UTF-8. Escaped unpaired
/// surrogates are accepted: the escape is valid JSON syntax, and it is relayed as written.
/// Numbers of any size are accepted: they are copied, never converted.
const ACCEPTED_IMPLEMENTATION_DEFINED: &[&str] = &[
    "i_number_double_huge_neg_exp.json",
    "i_number_huge_exp.json",
    "i_number_neg_int_huge_exp.json",
    "i_number_pos_double_huge_exp.json",
    "i_number_real_neg_overflow.json",
    "i_number_real_pos_overflow.json",
    "i_number_real_underflow.json",
    "i_number_too_big_neg_int.json",
    "i_number_too_big_pos_int.json",
    "i_number_very_big_negative_int.json",
    "i_object_key_lone_2nd_surrogate.json",
    "i_string_1st_surrogate_but_2nd_missing.json",
    "i_string_1st_valid_surrogate_2nd_invalid.json",
    "i_string_incomplete_surrogate_and_escape_valid.json",
    "i_string_incomplete_surrogate_pair.json",
    "i_string_incomplete_surrogates_escape_valid.json",
    "i_string_invalid_lonely_surrogate.json",
    "i_string_invalid_surrogate.json",
    "i_string_inverted_surrogates_U+1D11E.json",
    "i_string_lone_second_surrogate.json",
    "i_structure_500_nested_arrays.json",
];

fn suite() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/jsontestsuite/test_parsing");
    let mut cases: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).unwrap())
        })
        .collect();
    cases.sort();
    cases
}

#[test]
fn the_suite_is_all_there() {
    let cases = suite();
    assert_eq!(cases.len(), 318);
    for name in ACCEPTED_IMPLEMENTATION_DEFINED {
        assert!(cases.iter().any(|(n, _)| n == name), "{name} is not in the suite");
    }
}

#[test]
fn every_case_gets_its_verdict() {
    let mut wrong = Vec::new();
    for (name, document) in suite() {
        let accepted = validate(&document).is_ok();
        let expected = match name.as_bytes()[0] {
            b'y' => true,
            b'n' => false,
            b'i' => ACCEPTED_IMPLEMENTATION_DEFINED.contains(&name.as_str()),
            _ => panic!("unexpected file {name}"),
        };
        if accepted != expected {
            wrong.push(name);
        }
    }
    assert!(wrong.is_empty(), "wrong verdicts: {wrong:?}");
}

/// Any accepted document, captured whole through the root path, comes back byte for byte minus
/// the whitespace around it.
#[test]
fn accepted_documents_come_back_byte_for_byte() {
    let root = [Path::parse("").unwrap()];
    for (name, document) in suite() {
        if validate(&document).is_err() {
            continue;
        }
        let values = extract(&document, &root).unwrap();
        let trimmed = document.trim_ascii();
        assert_eq!(values[0].as_deref(), Some(trimmed), "{name}");
    }
}

/// Fed in chunks of every small size, each document gets the verdict it gets whole.
#[test]
fn chunked_feeding_agrees_with_whole_documents() {
    let paths = [Path::parse("0").unwrap(), Path::parse("/a/0").unwrap()];
    let path_refs: Vec<&Path> = paths.iter().collect();
    for (name, document) in suite() {
        let whole = extract(&document, &paths);
        for size in [1, 2, 3, 7] {
            let mut scanner = edge_relay::json::Scanner::new(&path_refs);
            let fed = document.chunks(size).try_for_each(|chunk| scanner.feed(chunk));
            let chunked = fed.and_then(|()| scanner.finish());
            assert_eq!(chunked.is_ok(), whole.is_ok(), "{name} in chunks of {size}");
            if let (Ok(a), Ok(b)) = (&chunked, &whole) {
                assert_eq!(a, b, "{name} in chunks of {size}");
            }
        }
    }
}

/// The component validates the request body and projects the upstream's answer with the scanner:
/// against an upstream that echoes the body, each case gets its verdict in wasm too, and an
/// accepted document comes back whole, byte for byte.
#[test]
fn the_component_gives_every_case_its_verdict() {
    let upstream = Upstream::start(|received| Reply::Send(200, "application/json", received.body.clone()));
    let relay = Serve::start("edge_relay.wasm", &relay_env(upstream.url("/"), "doc=", &[]));
    let mut wrong = Vec::new();
    for (name, document) in suite() {
        let accepted = validate(&document).is_ok();
        let answer = request(relay.port, "POST", "/", &[], &document);
        let expected_status = match (accepted, document.is_empty()) {
            (true, _) => 200,
            // An empty request body is relayed as no body; the empty echo is no JSON.
            (false, true) => 502,
            (false, false) => 400,
        };
        let whole = accepted.then(|| format!("{{\"doc\":{}}}", String::from_utf8_lossy(document.trim_ascii())));
        if answer.status != expected_status || whole.is_some_and(|whole| answer.body != whole) {
            wrong.push((name, answer.status));
        }
    }
    assert!(wrong.is_empty(), "wrong answers from the component: {wrong:?}");
}

/// The component passes over plain string text sixteen bytes a step (wasm SIMD128), the host
/// build eight (SWAR): a byte that ends the run (a quote, a backslash, a control character, DEL,
/// anything past ASCII, valid or not) at every offset of a block, in a key and in a value, gets
/// the verdict serde_json gives, and an accepted document comes back byte for byte.
#[test]
fn string_runs_end_where_they_should_at_every_offset() {
    let upstream = Upstream::start(|received| Reply::Send(200, "application/json", received.body.clone()));
    let relay = Serve::start("edge_relay.wasm", &relay_env(upstream.url("/"), "doc=", &[]));
    let stops: [&[u8]; 10] =
        [b"\\\"", b"\\\\", b"\\u00e9", b"\"", b"\x01", b"\x7f", "\u{e9}".as_bytes(), "\u{1f600}".as_bytes(), b"\xff", b"\xc3"];
    let mut wrong = Vec::new();
    let mut accepted_count = 0;
    for stop in stops {
        for offset in 0..40 {
            for in_key in [false, true] {
                let text = [&b"a".repeat(offset)[..], stop, &b"b".repeat(40 - offset)].concat();
                let document =
                    if in_key { [&b"{\""[..], &text, b"\":1}"].concat() } else { [&b"{\"s\":\""[..], &text, b"\",\"t\":[1]}"].concat() };
                let accepted = serde_json::from_slice::<serde_json::Value>(&document).is_ok();
                accepted_count += usize::from(accepted);
                assert_eq!(validate(&document).is_ok(), accepted, "the host scanner on {:?}", String::from_utf8_lossy(&document));
                let answer = request(relay.port, "POST", "/", &[], &document);
                let whole = format!("{{\"doc\":{}}}", String::from_utf8_lossy(&document));
                let right = if accepted { answer.status == 200 && answer.body == whole } else { answer.status == 400 };
                if !right {
                    wrong.push((String::from_utf8_lossy(&document).into_owned(), answer.status));
                }
            }
        }
    }
    // Six of the ten stops are valid in a JSON string (an escape, DEL, UTF-8 of two and four bytes).
    assert_eq!(accepted_count, 6 * 40 * 2);
    assert!(wrong.is_empty(), "wrong answers from the component: {wrong:?}");
}

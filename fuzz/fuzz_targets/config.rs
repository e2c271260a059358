//! The configuration parsers (fields, headers, URLs, the whole environment) on arbitrary text:
//! no panic, and what they accept is usable.
#![no_main]

use edge_relay::config::{parse_header_list, Config, Upstream};
use edge_relay::field::parse_list;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let parts: Vec<&str> = text.splitn(3, '\n').collect();
    if let Ok(fields) = parse_list(&text) {
        assert!(!fields.is_empty() && fields.iter().all(|f| !f.name.is_empty()));
    }
    match parse_header_list(&text) {
        Ok(headers) => {
            for (name, value) in headers {
                assert!(!name.is_empty() && !value.iter().any(|&b| b == b'\r' || b == b'\n'));
            }
        }
        // The list holds secrets: a problem is `entry N` and a fixed text, never a part of it.
        Err(problem) => {
            let problem = problem.into_string();
            let rest = problem.strip_prefix("entry ").expect("names the entry");
            let (number, problem) = rest.split_once(' ').expect("a problem follows");
            assert!(number.bytes().all(|b| b.is_ascii_digit()), "{number}");
            const PROBLEMS: [&str; 5] = [
                "is not name=value",
                "has a broken %-escape",
                "has an invalid header name",
                "names a header the relay sets",
                "has a control character in its value",
            ];
            assert!(PROBLEMS.contains(&problem), "{problem}");
        }
    }
    if let Ok(upstream) = Upstream::parse(&text) {
        assert!(!upstream.authority.is_empty() && upstream.path_and_query.starts_with('/'));
    }
    let env: Vec<(String, String)> = ["RELAY_UPSTREAM_URL", "RELAY_FIELDS", "RELAY_UPSTREAM_HEADERS"]
        .iter()
        .zip(parts.iter())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let _ = Config::from_env(&env);
});

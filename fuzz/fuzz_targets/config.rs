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
    if let Ok(headers) = parse_header_list(&text) {
        for (name, value) in headers {
            assert!(!name.is_empty() && !value.iter().any(|&b| b == b'\r' || b == b'\n'));
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

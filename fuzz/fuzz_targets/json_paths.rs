//! The JSON scanner and path extraction against serde_json: the input's first line lists paths
//! (comma-separated, as RELAY_FIELDS writes them), the rest is the document.
#![no_main]

#[path = "../../tests/oracle/mod.rs"]
mod oracle;

use edge_relay::path::Path;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let (spec, document) = match input.iter().position(|&b| b == b'\n') {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => (&b""[..], input),
    };
    let spec = String::from_utf8_lossy(spec);
    let mut paths: Vec<Path> = spec.split(',').filter_map(|p| Path::parse(p).ok()).take(8).collect();
    paths.push(Path::parse("").unwrap());
    oracle::check(document, &paths);
});

//! The differential oracle shared by tests/properties.rs and the fuzz targets in fuzz/: for any
//! input, edge-relay's verdict agrees with serde_json's, and every value it extracts parses back to
//! exactly what serde_json (with `arbitrary_precision`) finds at that path.

use edge_relay::json::extract;
use edge_relay::path::Path;
use serde_json::Value;

/// What serde_json finds at `path`: the last of repeated keys, an index into arrays.
pub fn lookup<'v>(document: &'v Value, path: &Path) -> Option<&'v Value> {
    let mut here = document;
    for segment in &path.segments {
        here = match here {
            Value::Object(map) => map.get(&segment.key)?,
            Value::Array(items) => items.get(segment.index? as usize)?,
            _ => return None,
        };
    }
    Some(here)
}

/// Where the two parsers may differ by design: serde_json stops at 128 levels of nesting, and
/// refuses escaped lone surrogates, which edge-relay relays as written (JSONTestSuite `i_` cases).
fn serde_json_limit(error: &serde_json::Error) -> bool {
    let text = error.to_string();
    // serde_json words a lone surrogate three ways, depending on what follows it; for escapes that
    // edge-relay accepted (four hex digits), a surrogate is the only way to get any of them.
    text.contains("recursion limit")
        || text.contains("surrogate")
        || text.contains("unexpected end of hex escape")
        || text.contains("invalid unicode code point")
}

/// serde_json with `arbitrary_precision` reads an object whose key is `$serde_json::private::Number`
/// as its own encoding of a number, and refuses or converts what is plain JSON to anyone else
/// (found by the fuzzer): such documents have no oracle.
fn uses_serde_json_private_key(input: &[u8]) -> bool {
    let key = b"$serde_json::private::";
    input.windows(key.len()).any(|window| window == key)
}

/// Panics with a description when edge-relay and serde_json disagree about `input`.
pub fn check(input: &[u8], paths: &[Path]) {
    let ours = extract(input, paths);
    if uses_serde_json_private_key(input) {
        return;
    }
    let theirs = serde_json::from_slice::<Value>(input);
    match (ours, theirs) {
        (Ok(values), Ok(document)) => {
            for (path, value) in paths.iter().zip(&values) {
                let expected = lookup(&document, path);
                let found = value.as_ref().map(|bytes| {
                    serde_json::from_slice::<Value>(bytes)
                        .unwrap_or_else(|e| panic!("extracted {:?} does not parse: {e}", String::from_utf8_lossy(bytes)))
                });
                assert_eq!(found.as_ref(), expected, "path {path:?} in {:?}", String::from_utf8_lossy(input));
            }
        }
        (Err(_), Err(_)) => {}
        (Ok(_), Err(error)) => {
            assert!(serde_json_limit(&error), "accepted what serde_json rejects ({error}): {:?}", String::from_utf8_lossy(input))
        }
        (Err(error), Ok(_)) => panic!("rejected valid JSON ({}): {:?}", error.message(), String::from_utf8_lossy(input)),
    }
}

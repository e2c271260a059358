//! The streamed shape against the whole-document evaluator: the input's first byte sets the
//! chunk size (below), its first line (after that byte) is a program, the rest is the document.
//! When the program is of the subset and the document is JSON, the plan's answer, fed in chunks,
//! must be the whole-document evaluator's byte for byte (or both an error).
#![no_main]

use edge_relay::relay::Sink;
use edge_relay::shape::{eval, parse, Plan, Shaper, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&chunk, rest)) = input.split_first() else { return };
    let (program, document) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => return,
    };
    let Ok(program) = std::str::from_utf8(program) else { return };
    let Ok(expr) = parse(program) else { return };
    if edge_relay::json::validate(document).is_err() {
        return;
    }
    let vars: [(&str, &[u8]); 2] = [("query", br#"{"city":"Oslo"}"#), ("params", br#"{"id":"7"}"#)];
    let whole = eval(&expr, Value::Found(document), &vars).ok().map(|values| values.iter().map(|v| v.text().to_vec()).collect::<Vec<_>>());
    let plan = Plan::new(&expr);
    let paths = plan.paths();
    let mut shaper = Shaper::new(&plan, &paths, &vars, u64::MAX, None);
    // Chunks of 1 to 16 bytes, or (high bit set) 64 bytes or more, where whole elements and
    // values are met inside a chunk (the scanner's one-pass lanes, `json::skip`, `pick_members`).
    let size = if chunk >= 128 { 64 << (chunk % 8) } else { usize::from(chunk % 16) + 1 };
    let fed = document.chunks(size).all(|piece| shaper.push(piece).is_ok());
    let streamed = if fed { shaper.finish().ok() } else { None };
    assert_eq!(streamed, whole, "{program} on {}", String::from_utf8_lossy(document));
});

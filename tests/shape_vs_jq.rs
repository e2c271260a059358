//! The shape language's parser against real jq (Debian's jq 1.6, installed by scripts/setup):
//! every program the subset accepts compiles in jq, every program it refuses as broken is broken
//! for jq too, and every construct it refuses as left out is one jq has. (The evaluator, still to
//! come, will be compared with jq's answers the same way.)

use std::process::{Command, Stdio};

use edge_relay::shape::{parse, Problem};

/// Whether jq compiles `program` (exit code 3 is jq's compile error; a run-time error is fine).
fn jq_compiles(program: &str) -> Option<bool> {
    let status = Command::new("jq")
        .args(["-n", "--argjson", "query", "{}", "--argjson", "params", "{}", "--argjson", "name", "1", program])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    Some(status.code() != Some(3))
}

const ACCEPTED: &[&str] = &[
    ".",
    ".foo",
    ".\"foo bar\"",
    ".[\"foo\"]",
    ".[2]",
    ".[-1]",
    ".[]",
    ".a?",
    ".[]?",
    ".a[0]?",
    ".data.items[0].tags[]",
    "{a: .x, \"b c\": 1, id, $name}",
    "{\"k\"}",
    "[.a, .b]",
    "[]",
    "{}",
    ".a // .b // 3",
    "[.[] | select(.kind == \"a\") | .id]",
    "[.[] | {id, name}]",
    "map(.id)",
    "select(has(\"k\") and (.a | not))",
    "select(.a != null or .b == false)",
    ".items | length",
    "keys",
    "type",
    "$query.city",
    "{q: $query.city, units: \"metric\", limit: (.limit // 10)}",
    "{user: {id: .user.id}, count: (.items | length)}",
    "{count: .items | length}",
    "1.0e+2",
    "123456789012345678901234567890",
    "\"caf\\u00e9\"",
    "null, true, false",
    ". # a comment",
    ".a ?",
    ".a?.b?",
];

/// Refused as broken: broken for jq as well.
const BROKEN: &[&str] = &[".a |", "[.a", "{a: 1", "(.a", "\"abc", "{a: .b // .c}", "{a: .b == 1}", "$", ".a ]", ".a == 1 == 2"];

/// Refused as left out of the subset: all of them jq programs.
const LEFT_OUT: &[&str] = &[
    "reduce .[] as $x (0; . + $x)",
    ".a | if . then 1 else 2 end",
    ".a + 1",
    ".a - 1",
    "..",
    ".a |= 1",
    ".a = 1",
    ".a < 1",
    ".[1:2]",
    ".[.i]",
    "sort",
    "to_entries",
    "@base64",
    "\"a\\(.b)\"",
    "{(.k): 1}",
    "def f: 1; f",
    ".a as $x | $x",
    "try .a",
    "(.a)?",
    ".a.b??",
    ".?",
    "{a: 1, b: 2, a: 3}",
    "has(.k)",
    "[.a] | length",
];

#[test]
fn the_subset_agrees_with_jq_on_what_is_a_program() {
    if jq_compiles(".").is_none() {
        eprintln!("skipped: jq is not installed (scripts/setup installs it)");
        return;
    }
    for program in ACCEPTED {
        assert!(parse(program).is_ok(), "the subset refuses {program}: {:?}", parse(program));
        assert_eq!(jq_compiles(program), Some(true), "jq refuses {program}");
    }
    for program in BROKEN {
        let error = parse(program).expect_err(program);
        assert!(matches!(error.problem, Problem::Syntax(_)), "{program}: {error:?}");
        assert_eq!(jq_compiles(program), Some(false), "jq compiles {program}");
    }
    for program in LEFT_OUT {
        let error = parse(program).expect_err(program);
        assert!(
            error.message().contains("is not supported") || error.message().starts_with("the left side of |"),
            "{program}: {}",
            error.message()
        );
        assert_eq!(jq_compiles(program), Some(true), "jq refuses {program}");
    }
}

/// jq's outputs for `program` on `document` (one per line of `jq -c`), or `None` for its run-time
/// error.
fn jq_outputs(program: &str, document: &str) -> Option<Vec<serde_json::Value>> {
    use std::io::Write;
    let mut child = Command::new("jq")
        .args(["-c", "--argjson", "query", r#"{"city":"Oslo","n":"2"}"#, "--argjson", "params", r#"{"id":"7"}"#, program])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(document.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect())
}

/// JSON values equal as jq sees them: numbers as doubles (jq 1.6 keeps no more), objects as maps.
fn same_value(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b)),
        (Value::Object(a), Value::Object(b)) => a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same_value(v, w))),
        _ => a == b,
    }
}

/// Our outputs for `program` on `document`, streamed in chunks of `chunk` bytes through the plan,
/// as text, or the run-time error's message.
fn streamed(program: &str, document: &str, chunk: usize) -> Result<Vec<String>, String> {
    use edge_relay::relay::Sink;
    use edge_relay::shape::{Plan, Shaper};
    let expr = parse(program).unwrap_or_else(|e| panic!("{program}: {}", e.message()));
    let vars: [(&str, &[u8]); 2] = [("query", br#"{"city":"Oslo","n":"2"}"#), ("params", br#"{"id":"7"}"#)];
    let plan = Plan::new(&expr);
    let paths = plan.paths();
    let mut shaper = Shaper::new(&plan, &paths, &vars, u64::MAX, None);
    let problem = |error: edge_relay::error::RelayError| match error {
        edge_relay::error::RelayError::UpstreamShape { problem } => problem,
        other => other.message(),
    };
    for piece in document.as_bytes().chunks(chunk.max(1)) {
        shaper.push(piece).map_err(problem)?;
    }
    Ok(shaper.finish().map_err(problem)?.into_iter().map(|v| String::from_utf8(v).unwrap()).collect())
}

/// [`streamed`] read as JSON values, `None` for a run-time error.
fn ours(program: &str, document: &str, chunk: usize) -> Option<Vec<serde_json::Value>> {
    let found = streamed(program, document, chunk).ok()?;
    Some(found.iter().map(|v| serde_json::from_str(v).unwrap_or_else(|e| panic!("{program}: {e}: {v:?}"))).collect())
}

/// docs/shape.md's examples answer as the page says, byte for byte at any chunk boundaries, and
/// as jq answers (as JSON values).
#[test]
fn the_documented_examples_answer_as_written_and_as_jq_does() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/shape.md")).unwrap();
    let examples = page.split("## Examples").nth(1).unwrap().split("```text").nth(1).unwrap().split("```").next().unwrap();
    let with_jq = jq_compiles(".").is_some();
    let mut count = 0;
    for block in examples.split("\n\n").filter(|block| !block.trim().is_empty()) {
        let field = |name: &'static str| block.lines().filter_map(move |line| line.strip_prefix(name).map(str::trim_start));
        let program = field("program ").next().unwrap_or_else(|| panic!("no program in {block:?}"));
        let input = field("input ").next().unwrap();
        let outputs: Vec<String> = field("output ").map(String::from).collect();
        let expected = field("error ").next().map_or(Ok(outputs.clone()), |error| Err(String::from(error)));
        for chunk in [1, 2, 5, input.len()] {
            assert_eq!(streamed(program, input, chunk), expected, "{program} on {input} in chunks of {chunk}");
        }
        if with_jq {
            let jqs = jq_outputs(program, input);
            let agree = match (&expected, &jqs) {
                (Ok(ours), Some(theirs)) => {
                    ours.len() == theirs.len() && ours.iter().zip(theirs).all(|(a, b)| same_value(&serde_json::from_str(a).unwrap(), b))
                }
                (Err(_), None) => true,
                _ => false,
            };
            assert!(agree, "{program} on {input}: the page says {expected:?}, jq {jqs:?}");
        }
        count += 1;
    }
    assert!(count >= 15, "{count} examples");
}

/// What the whole-document evaluator answers, for the streamed answer to be compared with.
fn whole(program: &str, document: &str) -> Option<Vec<Vec<u8>>> {
    use edge_relay::shape::{eval, Value};
    let expr = parse(program).unwrap();
    let vars: [(&str, &[u8]); 2] = [("query", br#"{"city":"Oslo","n":"2"}"#), ("params", br#"{"id":"7"}"#)];
    let found = eval(&expr, Value::Found(document.as_bytes()), &vars).ok()?;
    Some(found.iter().map(|v| v.text().to_vec()).collect())
}

const DOCUMENT: &str = r#"{"items":[{"id":1,"name":"a","kind":"a","tags":["x","y"],"price":1.50},{"id":2,"name":"b","kind":"b","tags":[],"price":null},{"id":3,"name":"c","kind":"a","extra":{"deep":[true,false]}}],"user":{"id":"u1","name":"Zo\u00eb","roles":null},"count":3,"caf\u00e9":"\u00e9","empty":{},"neg":-1.5,"list":[3,1,2],"dup":{"k":1,"k":2}}"#;

/// Programs of the subset on documents, each answered by the evaluator as jq answers it
/// (compared as JSON values; jq prints them compactly, the evaluator keeps the document's bytes).
const CASES: &[(&str, &str)] = &[
    (".", DOCUMENT),
    (".items", DOCUMENT),
    (".items[0]", DOCUMENT),
    (".items[-1]", DOCUMENT),
    (".items[5]", DOCUMENT),
    (".items[-9]", DOCUMENT),
    (".items[]", DOCUMENT),
    (".items[].id", DOCUMENT),
    (".items[0].tags[]", DOCUMENT),
    (".items[].tags[]?", DOCUMENT),
    // Steps after an iteration, which the parser writes as pipes (the plan streams them).
    ("[.items[].tags[0]?]", DOCUMENT),
    ("[.items[]?.extra?.deep[]?]", DOCUMENT),
    ("[(.items[] | .tags)[]]", DOCUMENT),
    ("[.items[].kind | select(. == \"a\")]", DOCUMENT),
    (".items[].extra.deep[0]", DOCUMENT),
    // The forms answered off an element's members (src/shape/direct.rs).
    ("[.items[] | select(.kind != \"a\") | {n: .name, id}]", DOCUMENT),
    ("[.items[] | select(.price == 1.5) | .name]", DOCUMENT),
    ("[.items[] | select(\"a\" == .kind) | .extra]", DOCUMENT),
    (".user.name", DOCUMENT),
    (".user.missing", DOCUMENT),
    (".user.missing.deeper", DOCUMENT),
    (".\"caf\u{e9}\"", DOCUMENT),
    (".[\"caf\\u00e9\"]", DOCUMENT),
    (".dup.k", DOCUMENT),
    ("[.items[] | {id, name}]", DOCUMENT),
    ("[.items[] | select(.kind == \"a\") | .id]", DOCUMENT),
    ("[.items[] | select(.kind != \"a\") | .name]", DOCUMENT),
    ("[.items[] | select(has(\"extra\")) | .id]", DOCUMENT),
    ("[.items[] | select(.price == 1.5)]", DOCUMENT),
    ("[.items[] | select(.price == null) | .id]", DOCUMENT),
    ("[.items[] | select(.tags == [])]", DOCUMENT),
    ("{user: {id: .user.id}, count: (.items | length)}", DOCUMENT),
    ("{count: .items | length}", DOCUMENT),
    ("map(.)", "[1,[2],{\"a\":3}]"),
    ("[.items[] | .price // 0]", DOCUMENT),
    (".user.roles // \"none\"", DOCUMENT),
    (".missing // .also // 3", DOCUMENT),
    ("[.items[].tags[] // \"x\"]", DOCUMENT),
    ("(.items | length), (.user | length), (.user.name | length), (.neg | length), (.count | length), (.missing | length)", DOCUMENT),
    ("keys", DOCUMENT),
    (".list | keys", DOCUMENT),
    (".empty | keys", DOCUMENT),
    ("[.[] | type]", "[null,true,1,\"s\",[],{}]"),
    (".items | map(.id)", DOCUMENT),
    (".items | map(select(.id != 2) | .name)", DOCUMENT),
    ("[.items[] | .id == 1 or .id == 3]", DOCUMENT),
    ("[.items[] | .id == 1 and .kind == \"a\"]", DOCUMENT),
    ("[.items[] | .price | not]", DOCUMENT),
    ("[(true, false) and (true, false)]", "null"),
    ("[(true, false) or (true, false)]", "null"),
    ("[(1, 2) == (1, 3)]", "null"),
    ("{a: (1, 2), b: (3, 4)}", "null"),
    ("[.[] | select((true, false, true))]", "[1,2]"),
    ("[(null, 1, false, 2) // 5]", "null"),
    ("[(null, false) // (5, 6)]", "null"),
    ("$query.city", "null"),
    ("{q: $query.city, units: \"metric\", limit: (.limit // 10)}", "{\"limit\":3}"),
    ("{q: $query.city, units: \"metric\", limit: (.limit // 10)}", "null"),
    ("$params", "null"),
    ("{$query}", "null"),
    ("[.a?, .[]?, .[0]?]", "1"),
    ("[.items[0].id.x?]", DOCUMENT),
    (".a", "1"),
    (".[]", "\"x\""),
    (".[0]", "{}"),
    ("length", "true"),
    ("keys", "1"),
    ("has(\"a\")", "[1]"),
    ("map(.)", "3"),
    (".items[].tags[]", DOCUMENT),
    ("[.[] | select(.a == {\"x\": [1, 2]})]", "[{\"a\":{\"x\":[1,2.0]}},{\"a\":{\"x\":[2,1]}}]"),
    ("[.[] | . == \"\u{e9}\"]", "[\"\\u00e9\",\"e\"]"),
    ("[1.0e+2, -0.5, 0, \"s\", null, true]", "null"),
    ("{\"a b\": 1, c: [], d: {}}", "null"),
    ("[]", "null"),
    (".", "  [1, 2]  "),
    ("[.[] | .a]", "[{\"a\":1},null,{\"b\":2}]"),
    ("[.[] | length]", "[\"h\u{e9}llo\",\"\",[1],{\"a\":1}]"),
    ("[.[]]", "{\"a\":1,\"b\":0,\"a\":2}"),
    ("length", "{\"a\":1,\"b\":0,\"a\":2}"),
];

#[test]
fn the_evaluator_answers_as_jq_does() {
    if jq_compiles(".").is_none() {
        eprintln!("skipped: jq is not installed (scripts/setup installs it)");
        return;
    }
    for (program, document) in CASES {
        let jqs = jq_outputs(program, document);
        for chunk in [1, 3, document.len()] {
            let ours = ours(program, document, chunk);
            let agree = match (&ours, &jqs) {
                (Some(a), Some(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b)),
                (None, None) => true,
                _ => false,
            };
            assert!(agree, "{program} on {document} in chunks of {chunk}:\n ours {ours:?}\n jq's {jqs:?}");
        }
    }
    assert!(CASES.len() >= 60);
}

/// Generated programs of the subset on generated documents: the evaluator answers as jq does
/// (outputs compared as JSON values, an error on both sides counting as agreement).
mod generated {
    use super::{jq_compiles, jq_outputs, ours, same_value, whole};
    use proptest::prelude::*;

    fn document() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just(String::from("null")),
            Just(String::from("true")),
            Just(String::from("false")),
            (-20i32..20).prop_map(|n| n.to_string()),
            Just(String::from("1.5")),
            Just(String::from("1.0e+2")),
            prop_oneof![Just("\"a\""), Just("\"b\""), Just("\"\\u00e9\""), Just("\"\"")].prop_map(String::from),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(","))),
                prop::collection::vec((prop_oneof![Just("a"), Just("b"), Just("c")], inner), 0..4).prop_map(|entries| {
                    let mut seen = Vec::new();
                    let fields: Vec<String> = entries
                        .into_iter()
                        .filter(|(k, _)| {
                            !seen.contains(k) && {
                                seen.push(*k);
                                true
                            }
                        })
                        .map(|(k, v)| format!("\"{k}\": {v}"))
                        .collect();
                    format!("{{{}}}", fields.join(", "))
                }),
            ]
        })
    }

    /// Paths: the programs whose outputs may feed a `|`.
    fn path() -> impl Strategy<Value = String> {
        // Brackets follow a step directly (`.a[0]`): jq 1.6 has no `.a.[0]`.
        let step = prop_oneof![Just(".a"), Just(".b"), Just("[0]"), Just("[-1]"), Just("[]"), Just(".a?"), Just("[]?"), Just("[\"c\"]")];
        prop::collection::vec(step, 1..4).prop_map(|steps| {
            let path = steps.concat();
            if path.starts_with('[') {
                format!(".{path}")
            } else {
                path
            }
        })
    }

    fn program() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just(String::from(".")),
            path(),
            Just(String::from("null")),
            Just(String::from("1")),
            Just(String::from("\"a\"")),
            Just(String::from("length")),
            Just(String::from("type")),
            Just(String::from("keys")),
            Just(String::from("not")),
            Just(String::from("has(\"a\")")),
        ];
        leaf.prop_recursive(3, 24, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(|p| format!("[{p}]")),
                (inner.clone(), inner.clone()).prop_map(|(p, q)| format!("{{a: ({p}), b: ({q})}}")),
                (path(), inner.clone()).prop_map(|(p, q)| format!("{p} | {q}")),
                (inner.clone(), inner.clone()).prop_map(|(p, q)| format!("({p}), ({q})")),
                (inner.clone(), inner.clone()).prop_map(|(p, q)| format!("({p}) // ({q})")),
                (inner.clone(), inner.clone()).prop_map(|(p, q)| format!("({p}) == ({q})")),
                (inner.clone(), inner.clone()).prop_map(|(p, q)| format!("({p}) and ({q})")),
                (inner.clone(), inner.clone()).prop_map(|(p, q)| format!("({p}) or ({q})")),
                inner.clone().prop_map(|p| format!("select({p})")),
                inner.clone().prop_map(|p| format!("map({p})")),
                (path(), inner).prop_map(|(p, q)| format!("[{p} | select({q})]")),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn generated_programs_answer_as_jq_does(program in program(), document in document(), chunk in 1usize..9) {
            if jq_compiles(".").is_none() {
                return Ok(());
            }
            let (ours, jqs) = (ours(&program, &document, chunk), jq_outputs(&program, &document));
            let agree = match (&ours, &jqs) {
                (Some(a), Some(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b)),
                (None, None) => true,
                _ => false,
            };
            prop_assert!(agree, "{} on {}:\n ours {:?}\n jq's {:?}", program, document, ours, jqs);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// The plan and its streams answer as the whole-document evaluator does, byte for byte,
        /// at any chunk boundaries: without jq, so many more cases.
        #[test]
        fn streamed_answers_are_the_whole_documents(program in program(), document in document(), chunk in 1usize..9) {
            use edge_relay::relay::Sink;
            use edge_relay::shape::{parse, Plan, Shaper};
            let expr = parse(&program).unwrap();
            let plan = Plan::new(&expr);
            let paths = plan.paths();
            let vars: [(&str, &[u8]); 2] = [("query", br#"{"city":"Oslo","n":"2"}"#), ("params", br#"{"id":"7"}"#)];
            let mut shaper = Shaper::new(&plan, &paths, &vars, u64::MAX, None);
            let fed = document.as_bytes().chunks(chunk).all(|piece| shaper.push(piece).is_ok());
            let outputs = if fed { shaper.finish().ok() } else { None };
            let expected = whole(&program, &document);
            prop_assert_eq!(outputs, expected, "{} on {} in chunks of {}", program, document, chunk);
        }
    }
}

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

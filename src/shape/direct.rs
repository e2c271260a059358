//! The common programs of a streamed object element answered off its members, without the
//! evaluator: `.key`, `{a, b: .c}` and either behind `select(.k == literal)` (or `!=`). They are
//! most of what a gateway asks of each element of a list, and the evaluator's generality (a
//! closure per step, a vector per output) was half the time of `[.[] | {id, name}]` once the
//! scanner picked the members. Anything else, and any element these cannot answer exactly as jq
//! (a comparison nested too deeply to decide here), goes to the evaluator, which stays the
//! reference: the tests compare the two on every form.

use alloc::vec::Vec;

use super::eval::{names_key, same, walk_members};
use super::parse::Expr;
use crate::json::write_string;

/// The most members a direct answer reads.
const MAX_READ: usize = 8;

/// A program answered directly: the members it reads, what it yields.
pub(super) struct Direct<'e> {
    /// `select(.key == literal)` first (`false`: `!=`), its key the first of `keys`.
    filter: Option<(&'e [u8], bool)>,
    /// The members read: the filter's, then the answer's.
    keys: Vec<&'e str>,
    /// The answer's names, for `{name: .key, ...}` (the shorthand `{key}` is written out so by
    /// the parser); `None` for `.key`.
    names: Option<Vec<&'e str>>,
}

/// The direct form of `apply`, when it has one.
pub(super) fn direct(apply: &Expr) -> Option<Direct<'_>> {
    let (mut keys, filter, rest) = match apply {
        Expr::Pipe(left, rest) => {
            let Expr::Select(condition) = &**left else { return None };
            let Expr::Equals(left, right, equal) = &**condition else { return None };
            let (key, literal) = match (&**left, &**right) {
                (Expr::Literal(literal), read) | (read, Expr::Literal(literal)) => (member(read)?, literal),
                _ => return None,
            };
            (alloc::vec![key], Some((literal.as_bytes(), *equal)), &**rest)
        }
        other => (Vec::new(), None, other),
    };
    let names = match rest {
        Expr::Object(entries) => {
            for (_, value) in entries {
                keys.push(member(value)?);
            }
            Some(entries.iter().map(|(name, _)| name.as_str()).collect())
        }
        other => {
            keys.push(member(other)?);
            None
        }
    };
    (keys.len() <= MAX_READ).then_some(Direct { filter, keys, names })
}

/// `.key` (not `.key?`, which an object never needs, nor a chain).
fn member(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Field(of, key, false) if **of == Expr::Identity => Some(key),
        _ => None,
    }
}

impl Direct<'_> {
    /// This program's output for the object `element`, written in `out` (emptied first): `true`
    /// when it yields it, `false` when the filter drops the element, `None` when only the
    /// evaluator can tell.
    pub(super) fn answer(&self, element: &[u8], out: &mut Vec<u8>) -> Option<bool> {
        out.clear();
        // Each member's value, the last of a repeated key (as jq reads one); `null` if absent.
        let mut values: [&[u8]; MAX_READ] = [b"null"; MAX_READ];
        walk_members(element, &mut |literal, value| {
            for (key, slot) in self.keys.iter().zip(values.iter_mut()) {
                if literal.is_some_and(|literal| names_key(literal, key.as_bytes())) {
                    *slot = value;
                }
            }
            true
        });
        let mut values = values.iter().copied();
        if let Some((literal, equal)) = self.filter {
            if same(values.next()?, literal)? != equal {
                return Some(false);
            }
        }
        match &self.names {
            None => out.extend_from_slice(values.next()?),
            Some(names) => {
                out.push(b'{');
                for (name, value) in names.iter().zip(values) {
                    if out.len() > 1 {
                        out.push(b',');
                    }
                    write_string(out, name.as_bytes());
                    out.push(b':');
                    out.extend_from_slice(value);
                }
                out.push(b'}');
            }
        }
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{eval, parse, Value};

    /// The evaluator's outputs of `program` for `element`, joined as a stream's list holds them.
    fn evaluated(program: &Expr, element: &str) -> Vec<u8> {
        let outputs = eval(program, Value::Found(element.as_bytes()), &[]).unwrap();
        outputs.iter().map(|value| value.text()).collect::<Vec<_>>().join(&b","[..])
    }

    #[test]
    fn direct_answers_are_the_evaluators() {
        let programs = [
            ".id",
            "{id, name}",
            "{a: .id, \"b c\": .name, id}",
            "{}",
            "select(.kind == \"a\") | .id",
            "select(\"a\" == .kind) | {id, kind}",
            "select(.kind != \"a\") | .name",
            "select(.n == 1) | .id",
            "select(.n == 1.0) | .id",
            "select(.o == \"\\u0061\") | .id",
            "select(.missing == null) | .id",
        ];
        let elements = [
            r#"{"id":1,"name":"x","kind":"a"}"#,
            r#"{"name":"y","kind":"b","id":[1, {"z": null}]}"#,
            r#"{ "id" : 2 , "kind" : "\u0061" }"#,
            r#"{"\u0069d":3,"kind":"a","id":4,"n":1.0e0}"#,
            r#"{"id":5,"id":6,"n":10e-1,"o":{"x":[1,2.0]}}"#,
            r#"{"kind":"a\"b","name":"\u00e9\n"}"#,
            "{}",
        ];
        for program in programs {
            let expr = parse(program).unwrap();
            let direct = direct(&expr).unwrap_or_else(|| panic!("{program}: no direct form"));
            for element in elements {
                let mut out = Vec::new();
                let answered = direct.answer(element.as_bytes(), &mut out).unwrap();
                assert_eq!(if answered { out } else { Vec::new() }, evaluated(&expr, element), "{program} of {element}");
            }
        }
    }

    #[test]
    fn other_programs_are_the_evaluators_alone() {
        for program in [
            ".",
            ".id?",
            ".a.b",
            "{a: .b.c}",
            "{a: 1}",
            "[.id]",
            "select(.a) | .b",
            "select(.a == .b) | .c",
            "select(.o == {x: 1}) | .id",
            ".id // 1",
            "select(.k == 1)",
        ] {
            assert!(direct(&parse(program).unwrap()).is_none(), "{program}");
        }
        let nine = "{a: .a, b: .b, c: .c, d: .d, e: .e, f: .f, g: .g, h: .h, i: .i}";
        assert!(direct(&parse(nine).unwrap()).is_none());
    }
}

//! The shape language: a documented subset of jq (`RELAY_SHAPE`, the command's `--shape`) that
//! builds the answer from the upstream's document as it streams in. Three parts, each pure and
//! host-tested: the parser ([`parse()`]: a program of the subset becomes an [`Expr`] tree,
//! anything else is refused naming the construct and its column), the plan ([`Plan`]: which
//! values of the document the program reads, captured or streamed element by element as the
//! scanner meets them, [`Shaper`]), and the evaluator ([`eval()`]: jq's meaning for every
//! construct, values copied byte for byte), which runs on each streamed element and, at the end,
//! on a sparse copy of the document holding exactly what the program reads.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::RelayError;

mod direct;
mod eval;
mod parse;
mod plan;

pub use eval::{eval, kind, same, EvalError, Value, Variables};
pub use parse::{parse, Expr, Problem, ShapeError};
pub use plan::{Plan, Scratch, Shaper};

/// Compiles `program` for an artifact that binds `variables`; `one` when the answer must be one
/// value (an HTTP answer). The problem names the construct and its column, or the variable.
pub fn compile(program: &str, variables: &[&str], one: bool) -> Result<Expr, String> {
    let expr = parse(program).map_err(|error| error.message())?;
    if let Some(name) = unknown_variable(&expr, variables) {
        let mut problem = String::from("$");
        problem.push_str(name);
        problem.push_str(" is not defined");
        return Err(problem);
    }
    if one && !yields_one(&expr) {
        return Err(String::from("may yield several values or none: wrap it in [ ]"));
    }
    Ok(expr)
}

/// The upstream's body built by `RELAY_REQUEST_SHAPE` from the client's (`null` when it sent
/// none), a program that yields one value (checked when it was compiled).
pub fn shape_request(expr: &Expr, body: &[u8], variables: &Variables) -> Result<Vec<u8>, RelayError> {
    let input = if body.is_empty() { &b"null"[..] } else { body };
    let outputs = eval(expr, Value::Found(input), variables).map_err(|error| RelayError::RequestShape { problem: error.message() })?;
    Ok(outputs.first().map_or_else(Vec::new, |value| value.text().to_vec()))
}

/// The first variable `expr` reads that is not among `known` (jq refuses such a program).
pub fn unknown_variable<'e>(expr: &'e Expr, known: &[&str]) -> Option<&'e str> {
    let inner: &[&Expr] = match expr {
        Expr::Variable(name) => return (!known.contains(&name.as_str())).then_some(name.as_str()),
        Expr::Field(of, _, _) | Expr::Index(of, _, _) | Expr::Each(of, _) | Expr::Select(of) | Expr::Map(of) => &[of],
        Expr::Array(Some(of)) => &[of],
        Expr::Object(entries) => return entries.iter().find_map(|(_, value)| unknown_variable(value, known)),
        Expr::Pipe(a, b) | Expr::Comma(a, b) | Expr::Alternative(a, b) | Expr::Or(a, b) | Expr::And(a, b) | Expr::Equals(a, b, _) => {
            &[a, b]
        }
        _ => &[],
    };
    inner.iter().find_map(|expr| unknown_variable(expr, known))
}

/// Whether `expr` yields exactly one value whatever its input: what an HTTP answer needs (a
/// program that can yield several, or none, must be wrapped in `[ ]`).
pub fn yields_one(expr: &Expr) -> bool {
    yields(expr, false)
}

/// Whether `expr` yields one value, or at most one when `or_none`.
fn yields(expr: &Expr, or_none: bool) -> bool {
    match expr {
        Expr::Each(..) | Expr::Comma(..) => false,
        Expr::Select(_) => or_none,
        // `?` may leave nothing.
        Expr::Field(of, _, optional) | Expr::Index(of, _, optional) => (or_none || !optional) && yields(of, or_none),
        Expr::Object(entries) => entries.iter().all(|(_, value)| yields(value, or_none)),
        // The left side's truthy outputs, or else the right side's.
        Expr::Alternative(a, b) => yields(a, true) && yields(b, or_none),
        Expr::Pipe(a, b) | Expr::Or(a, b) | Expr::And(a, b) | Expr::Equals(a, b, _) => yields(a, or_none) && yields(b, or_none),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_relays_variables_are_known() {
        let known = ["query", "params"];
        assert_eq!(unknown_variable(&parse("{a: $query.x, b: [$params]}").unwrap(), &known), None);
        assert_eq!(unknown_variable(&parse("{a: $query.x, b: [.[] | $other]}").unwrap(), &known), Some("other"));
    }

    #[test]
    fn a_program_for_an_http_answer_yields_one_value() {
        for one in [
            ".",
            ".a.b[0]",
            "[.[] | .id]",
            "{a: .x, b: [.y[]], c: (.z // 1)}",
            "map(.id)",
            ".a // 1",
            ".items | length",
            "keys",
            "[.[] | select(.k)]",
        ] {
            assert!(yields_one(&parse(one).unwrap()), "{one}");
        }
        for one in [".a? // null", "{a: (.x? // 1)}", "(select(.a) | .b) // 2"] {
            assert!(yields_one(&parse(one).unwrap()), "{one}");
        }
        for several in
            [".[]", ".a, .b", ".[] | .id", "select(.a)", "{a: .x[]}", ".a[] // 1", ".items[] | length", ".a?", "{a: .b?}", ".a // .b?"]
        {
            assert!(!yields_one(&parse(several).unwrap()), "{several}");
        }
    }
}

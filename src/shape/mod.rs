//! The shape language: a documented subset of jq (`RELAY_SHAPE`, the command's `--shape`) that
//! builds the answer from the upstream's document. Two of its parts exist: the parser
//! ([`parse()`]: a program of the subset becomes an [`Expr`] tree, anything else is refused naming
//! the construct and its column) and an evaluator over a whole document in memory ([`eval()`],
//! values copied byte for byte, jq's meaning for every construct). The plan and the streaming
//! evaluator (which values the scanner keeps as an upstream's answer streams in) are still to
//! come; until then the HTTP component shapes its answer with `RELAY_FIELDS`.

mod eval;
mod parse;

pub use eval::{eval, kind, same, EvalError, Value, Variables};
pub use parse::{parse, Expr, Problem, ShapeError};

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
    match expr {
        Expr::Each(..) | Expr::Comma(..) | Expr::Select(_) => false,
        Expr::Field(of, _, _) | Expr::Index(of, _, _) => yields_one(of),
        Expr::Object(entries) => entries.iter().all(|(_, value)| yields_one(value)),
        Expr::Pipe(a, b) | Expr::Alternative(a, b) | Expr::Or(a, b) | Expr::And(a, b) | Expr::Equals(a, b, _) => {
            yields_one(a) && yields_one(b)
        }
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
        for several in [".[]", ".a, .b", ".[] | .id", "select(.a)", "{a: .x[]}", ".a[] // 1", ".items[] | length"] {
            assert!(!yields_one(&parse(several).unwrap()), "{several}");
        }
    }
}

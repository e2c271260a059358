//! The parser of the shape language, a subset of jq: text in, a [`Expr`] tree out, or a problem
//! naming the construct and its column. Anything outside the subset is refused here, at
//! configuration time, never answered wrongly later.
//!
//! Precedence, lowest first, as jq's own grammar has it: `|` (right), `,` (left), `//` (right),
//! `or`, `and`, `==` and `!=` (not chained), then a term with its postfix steps (`.a`, `[0]`,
//! `[]`, `?`).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::json::{decode_string, validate};
use crate::text;

/// A program of the subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `.`
    Identity,
    /// `.key`, `."key"`, `.["key"]` on the value of the first; `?` makes a type error silent.
    Field(Box<Expr>, String, bool),
    /// `.[n]`, `.[-n]`.
    Index(Box<Expr>, i64, bool),
    /// `.[]`: every element of an array, every value of an object.
    Each(Box<Expr>, bool),
    /// A literal, as its JSON text (numbers keep their spelling, strings their escapes).
    Literal(String),
    /// `$name`.
    Variable(String),
    /// `[e]`, `[]`.
    Array(Option<Box<Expr>>),
    /// `{key: e, ...}`, the shorthands (`{id}`, `{$name}`, `{"a b"}`) written out.
    Object(Vec<(String, Expr)>),
    Pipe(Box<Expr>, Box<Expr>),
    Comma(Box<Expr>, Box<Expr>),
    /// `a // b`.
    Alternative(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    /// `a == b` (`true`) or `a != b` (`false`).
    Equals(Box<Expr>, Box<Expr>, bool),
    Select(Box<Expr>),
    Map(Box<Expr>),
    /// `has("key")`.
    Has(String),
    Length,
    Keys,
    Type,
    Not,
}

/// Why a program is refused, and where: a byte column counted from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    pub problem: Problem,
    pub column: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A construct of jq that the subset does not have, by its spelling (`reduce`, `+`, `..`).
    Unsupported(&'static str),
    /// A name the subset does not know (`reduce`, `sort`, `as`), as written.
    UnsupportedName(String),
    /// Something no jq program has there.
    Syntax(&'static str),
}

impl ShapeError {
    /// `` `reduce` is not supported (column 12) ``.
    pub fn message(&self) -> String {
        let construct = match &self.problem {
            Problem::Syntax(problem) => Err(*problem),
            Problem::Unsupported(construct) => Ok(*construct),
            Problem::UnsupportedName(name) => Ok(name.as_str()),
        };
        let mut text = match construct {
            Ok(construct) => {
                let mut text = String::from("`");
                text.push_str(construct);
                text.push_str("` is not supported");
                text
            }
            Err(problem) => String::from(problem),
        };
        text.push_str(" (column ");
        crate::text::push_u64(&mut text, self.column as u64);
        text.push_str(")");
        text
    }
}

/// Parses a whole program.
pub fn parse(program: &str) -> Result<Expr, ShapeError> {
    let mut parser = Parser { text: program.as_bytes(), at: 0, depth: 0, operators: 0, failure: None };
    let parsed = parser.pipe().and_then(|expr| {
        parser.skip_space();
        if parser.at < parser.text.len() {
            return parser.unexpected();
        }
        Ok(expr)
    });
    // Every `Failed` was recorded first.
    parsed.map_err(|Failed| parser.failure.take().unwrap_or(ShapeError { problem: Problem::Syntax(""), column: 0 }))
}

/// A parse that failed; the problem is in [`Parser::failure`]. A unit error, not the problem
/// itself, makes each step's `Result` as small as an `Option`: 1,729 bytes less than a
/// `Result<_, ShapeError>` through every step.
struct Failed;

type Parsed<T> = Result<T, Failed>;

/// The deepest nesting of `( [ {`, function arguments and a path's steps a program may have:
/// parsing, planning and evaluating recurse once a level (the evaluator also stops where its
/// stack runs short, `eval::STACK_RESERVE`).
const MAX_DEPTH: usize = 32;

/// The most operators (`|`, `,`, `//`, `and`, `or`, `==`, `!=`) a program may have: a chain of
/// them nests the tree, and evaluating it recurses once a level.
const MAX_OPERATORS: usize = 64;

struct Parser<'t> {
    text: &'t [u8],
    at: usize,
    depth: usize,
    operators: usize,
    /// The problem met, recorded where it was met; the steps hand back only [`Failed`].
    failure: Option<ShapeError>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
        if self.peek() == Some(b'#') {
            // jq's comments run to the end of the line.
            while self.peek().is_some_and(|b| b != b'\n') {
                self.at += 1;
            }
            self.skip_space();
        }
    }

    fn error_at<T>(&mut self, at: usize, problem: Problem) -> Parsed<T> {
        self.failure = Some(ShapeError { problem, column: at + 1 });
        Err(Failed)
    }

    /// Counts one more operator, refusing the program past [`MAX_OPERATORS`].
    fn operator(&mut self) -> Parsed<()> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return self.syntax("the program has more than 64 operators");
        }
        Ok(())
    }

    fn syntax<T>(&mut self, problem: &'static str) -> Parsed<T> {
        self.error_at(self.at, Problem::Syntax(problem))
    }

    /// What stands at the cursor, as the problem to report: a construct of jq left out, or an
    /// unexpected character.
    fn unexpected<T>(&mut self) -> Parsed<T> {
        const OPERATORS: [&str; 16] = ["?//", "|=", "+=", "-=", "*=", "/=", "%=", "//=", "<=", ">=", "..", "+", "-", "*", "/", "%"];
        let rest = self.text.get(self.at..).unwrap_or(&[]);
        if let Some(operator) = OPERATORS.iter().find(|op| rest.starts_with(op.as_bytes())) {
            return self.error_at(self.at, Problem::Unsupported(operator));
        }
        if rest.first().is_some_and(|&b| is_name_start(b)) {
            // A keyword of jq's out of place for the subset (`as`, `then`), or a name: by name.
            let end = rest.iter().position(|&b| !is_name_byte(b)).unwrap_or(rest.len());
            let word = text::utf8(rest.get(..end).unwrap_or(&[])).unwrap_or("");
            return self.error_at(self.at, Problem::UnsupportedName(String::from(word)));
        }
        match rest.first() {
            None => self.syntax("the program ends too early"),
            Some(b'<' | b'>' | b'=') => self.error_at(self.at, Problem::Unsupported(if rest.starts_with(b"=") { "=" } else { "< and >" })),
            Some(b'@') => self.error_at(self.at, Problem::Unsupported("@format")),
            Some(b';') => self.error_at(self.at, Problem::Unsupported(";")),
            Some(_) => self.syntax("unexpected character"),
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.text.get(self.at..).is_some_and(|rest| rest.starts_with(token.as_bytes())) {
            self.at += token.len();
            return true;
        }
        false
    }

    /// A word (`and`, `select`) that is whole: not the start of a longer name.
    fn eat_word(&mut self, word: &str) -> bool {
        self.skip_space();
        let end = self.at + word.len();
        let whole = self.text.get(self.at..end) == Some(word.as_bytes()) && !self.text.get(end).is_some_and(|&b| is_name_byte(b));
        if whole {
            self.at = end;
        }
        whole
    }

    fn expect(&mut self, token: &str, problem: &'static str) -> Parsed<()> {
        if self.eat(token) {
            Ok(())
        } else {
            self.syntax(problem)
        }
    }

    fn pipe(&mut self) -> Parsed<Expr> {
        let left = self.comma()?;
        self.skip_space();
        if self.peek() == Some(b'|') && self.text.get(self.at + 1) != Some(&b'=') {
            // The documents are read once, as they stream in: what a `|` feeds on must be values
            // found in the document (a path) or the ones a `select` keeps.
            if !is_path_or_select(&left) {
                return self.syntax("the left side of | must be a path or a select");
            }
            self.at += 1;
            self.operator()?;
            let right = self.pipe()?;
            // Right-associated, `(A | B) | C` as `A | (B | C)` (the same in jq), so that an
            // iteration on the left (`.items[].a | f`) leads the pipe and streams.
            return Ok(match left {
                Expr::Pipe(first, rest) => Expr::Pipe(first, Box::new(Expr::Pipe(rest, Box::new(right)))),
                left => Expr::Pipe(Box::new(left), Box::new(right)),
            });
        }
        Ok(left)
    }

    fn comma(&mut self) -> Parsed<Expr> {
        let mut left = self.alternative()?;
        while self.eat(",") {
            self.operator()?;
            let right = self.alternative()?;
            left = Expr::Comma(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn alternative(&mut self) -> Parsed<Expr> {
        let left = self.or()?;
        self.skip_space();
        let rest = self.text.get(self.at..).unwrap_or(&[]);
        if rest.starts_with(b"//") && !rest.starts_with(b"//=") {
            self.at += 2;
            self.operator()?;
            let right = self.alternative()?;
            return Ok(Expr::Alternative(Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn or(&mut self) -> Parsed<Expr> {
        self.left_chain("or", Self::and, Expr::Or)
    }

    fn and(&mut self) -> Parsed<Expr> {
        self.left_chain("and", Self::comparison, Expr::And)
    }

    /// Operands joined by the word `operator`, left-associative: `a or b or c` is `(a or b) or c`.
    fn left_chain(
        &mut self,
        operator: &str,
        operand: fn(&mut Self) -> Parsed<Expr>,
        join: fn(Box<Expr>, Box<Expr>) -> Expr,
    ) -> Parsed<Expr> {
        let mut left = operand(self)?;
        while self.eat_word(operator) {
            self.operator()?;
            left = join(Box::new(left), Box::new(operand(self)?));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Parsed<Expr> {
        let left = self.postfix()?;
        let equal = if self.eat("==") {
            true
        } else if self.eat("!=") {
            false
        } else {
            return Ok(left);
        };
        self.operator()?;
        let right = self.postfix()?;
        self.skip_space();
        if self.text.get(self.at..).is_some_and(|rest| rest.starts_with(b"==") || rest.starts_with(b"!=")) {
            return self.syntax("comparisons do not chain: add parentheses");
        }
        Ok(Expr::Equals(Box::new(left), Box::new(right), equal))
    }

    /// A term and its steps: `.a.b[0][]?`, `$query.city`, `(e).x`.
    fn postfix(&mut self) -> Parsed<Expr> {
        let mut expr = self.term()?;
        // Each step nests the evaluation one level deeper, as a parenthesis does: a path's steps
        // count towards the nesting limit (a chain of 250 steps overflowed the stack).
        let depth = self.depth;
        loop {
            self.skip_space();
            match (self.peek(), self.text.get(self.at + 1).copied()) {
                (Some(b'.'), Some(b'[')) => {
                    self.at += 1;
                }
                (Some(b'.'), Some(b'.')) => return self.error_at(self.at, Problem::Unsupported("..")),
                (Some(b'.'), Some(b)) if b == b'"' || is_name_start(b) => {
                    self.at += 1;
                    let key = if b == b'"' { self.string()? } else { String::from(self.name()) };
                    let optional = self.eat_optional();
                    expr = after_iteration(Expr::Field(Box::new(expr), key, optional));
                    self.deeper()?;
                    continue;
                }
                _ => {}
            }
            if self.peek() != Some(b'[') {
                // A `?` here follows no step (`(.a)?`, `.a??`): jq's `try`, which the subset
                // leaves out.
                if self.eat_optional() {
                    return self.error_at(self.at - 1, Problem::Unsupported("? after anything but a step (try)"));
                }
                self.depth = depth;
                return Ok(expr);
            }
            expr = self.bracket(expr)?;
            self.deeper()?;
        }
    }

    /// A step's `?`, spaces before it allowed as jq allows them; one at most.
    fn eat_optional(&mut self) -> bool {
        self.skip_space();
        let optional = self.peek() == Some(b'?') && self.text.get(self.at + 1) != Some(&b'/');
        self.at += usize::from(optional);
        optional
    }

    /// `[...]` after a value: `[]`, `[n]`, `["key"]`; slices and computed indexes are left out.
    fn bracket(&mut self, of: Expr) -> Parsed<Expr> {
        let start = self.at;
        self.at += 1;
        self.skip_space();
        if self.eat("]") {
            let optional = self.eat_optional();
            return Ok(after_iteration(Expr::Each(Box::new(of), optional)));
        }
        enum Step {
            Key(String),
            Index(i64),
        }
        let step = match self.peek() {
            Some(b'"') => Step::Key(self.string()?),
            Some(b'-' | b'0'..=b'9') => Step::Index(self.integer()?),
            _ => return self.error_at(start, Problem::Unsupported("an index that is not a number or a string")),
        };
        self.skip_space();
        if self.peek() == Some(b':') {
            return self.error_at(start, Problem::Unsupported("a slice [a:b]"));
        }
        self.expect("]", "a ] is missing")?;
        let optional = self.eat_optional();
        // Built once its `?` is known.
        let of = Box::new(of);
        Ok(after_iteration(match step {
            Step::Key(key) => Expr::Field(of, key, optional),
            Step::Index(index) => Expr::Index(of, index, optional),
        }))
    }

    fn integer(&mut self) -> Parsed<i64> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let mut value: i64 = 0;
        let mut digits = 0;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            // Not `checked_mul`: on wasm32 it costs a 128-bit multiplication routine.
            let digit = i64::from(digit - b'0');
            if value > (i64::MAX - digit) / 10 {
                return self.syntax("an index too large");
            }
            value = value * 10 + digit;
            self.at += 1;
            digits += 1;
        }
        if digits == 0 || self.peek().is_some_and(|b| b == b'.' || b == b'e' || b == b'E') {
            return self.error_at(start, Problem::Unsupported("an index that is not a whole number"));
        }
        Ok(if negative { -value } else { value })
    }

    fn name(&mut self) -> &str {
        let start = self.at;
        while self.peek().is_some_and(is_name_byte) {
            self.at += 1;
        }
        text::utf8(self.text.get(start..self.at).unwrap_or(&[])).unwrap_or("")
    }

    /// A string literal, decoded: `"a\u00e9"` is `aé`. Interpolation (`\(...)`) is left out.
    fn string(&mut self) -> Parsed<String> {
        let literal = self.string_literal()?;
        Ok(text::utf8(&decode_string(literal.as_bytes())).map(String::from).unwrap_or_default())
    }

    /// A string literal as written, checked to be JSON's.
    fn string_literal(&mut self) -> Parsed<String> {
        let start = self.at;
        self.at += 1;
        loop {
            match self.peek() {
                None => return self.error_at(start, Problem::Syntax("a string is not closed")),
                Some(b'"') => break,
                Some(b'\\') => {
                    if self.text.get(self.at + 1) == Some(&b'(') {
                        return self.error_at(self.at, Problem::Unsupported("string interpolation \\(...)"));
                    }
                    self.at += 2;
                }
                Some(_) => self.at += 1,
            }
        }
        self.at += 1;
        let literal = self.text.get(start..self.at).unwrap_or(&[]);
        if validate(literal).is_err() {
            return self.error_at(start, Problem::Syntax("a string is not valid JSON text"));
        }
        Ok(String::from(text::utf8(literal).unwrap_or("")))
    }

    fn term(&mut self) -> Parsed<Expr> {
        self.deeper()?;
        let term = self.term_inner();
        self.depth -= 1;
        term
    }

    /// One level deeper (a term, an argument, a path's step), refused past [`MAX_DEPTH`].
    fn deeper(&mut self) -> Parsed<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.syntax("the program is nested too deeply");
        }
        Ok(())
    }

    fn term_inner(&mut self) -> Parsed<Expr> {
        self.skip_space();
        let start = self.at;
        let Some(b) = self.peek() else { return self.syntax("the program ends too early") };
        match b {
            b'.' => {
                let next = self.text.get(self.at + 1).copied();
                if next == Some(b'.') {
                    return self.error_at(start, Problem::Unsupported(".."));
                }
                if !next.is_some_and(|b| is_name_start(b) || b == b'"' || b == b'[') {
                    self.at += 1;
                }
                Ok(Expr::Identity)
            }
            b'"' => Ok(Expr::Literal(self.string_literal()?)),
            b'-' | b'0'..=b'9' => self.number(),
            b'$' => {
                self.at += 1;
                let name = self.name();
                if name.is_empty() {
                    return self.syntax("a $ without a variable name");
                }
                Ok(Expr::Variable(String::from(name)))
            }
            b'(' => {
                self.at += 1;
                let inner = self.pipe()?;
                self.expect(")", "a ) is missing")?;
                Ok(inner)
            }
            b'[' => {
                self.at += 1;
                if self.eat("]") {
                    return Ok(Expr::Array(None));
                }
                let inner = self.pipe()?;
                self.expect("]", "a ] is missing")?;
                Ok(Expr::Array(Some(Box::new(inner))))
            }
            b'{' => self.object(),
            b if is_name_start(b) => self.word(start),
            _ => self.unexpected(),
        }
    }

    /// A number literal, as written, checked to be JSON's.
    fn number(&mut self) -> Parsed<Expr> {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')) {
            self.at += 1;
        }
        let literal = self.text.get(start..self.at).unwrap_or(&[]);
        if literal == b"-" {
            return self.error_at(start, Problem::Unsupported("-"));
        }
        if validate(literal).is_err() {
            return self.error_at(start, Problem::Syntax("a number is not written as JSON writes it"));
        }
        Ok(Expr::Literal(String::from(text::utf8(literal).unwrap_or("0"))))
    }

    /// A keyword, a literal word or a function of the subset.
    fn word(&mut self, start: usize) -> Parsed<Expr> {
        let word = String::from(self.name());
        let with_argument = |parser: &mut Self, make: fn(Box<Expr>) -> Expr| -> Parsed<Expr> {
            parser.expect("(", "a ( is missing")?;
            let inner = parser.pipe()?;
            parser.expect(")", "a ) is missing")?;
            Ok(make(Box::new(inner)))
        };
        Ok(match word.as_str() {
            "null" | "true" | "false" => Expr::Literal(word),
            "length" => Expr::Length,
            "keys" => Expr::Keys,
            "type" => Expr::Type,
            "not" => Expr::Not,
            "select" => with_argument(self, Expr::Select)?,
            "map" => with_argument(self, Expr::Map)?,
            "has" => {
                self.expect("(", "a ( is missing")?;
                self.skip_space();
                if self.peek() != Some(b'"') {
                    return self.error_at(self.at, Problem::Unsupported("has() of anything but a string"));
                }
                let key = self.string()?;
                self.expect(")", "a ) is missing")?;
                Expr::Has(key)
            }
            // Every other name is a builtin or keyword of jq's the subset leaves out (`reduce`,
            // `if`, `sort`, ...) or none at all: refused by name.
            _ => return self.error_at(start, Problem::UnsupportedName(word)),
        })
    }

    /// `{a: e, "b c": e, (computed): e?, id, $name, "k"}`.
    fn object(&mut self) -> Parsed<Expr> {
        self.at += 1;
        let mut entries = Vec::new();
        if self.eat("}") {
            return Ok(Expr::Object(entries));
        }
        loop {
            self.skip_space();
            let start = self.at;
            let variable = self.peek() == Some(b'$');
            let key = match self.peek() {
                Some(b'"') => self.string()?,
                Some(b'$') => {
                    self.at += 1;
                    let name = String::from(self.name());
                    if name.is_empty() {
                        return self.syntax("a $ without a variable name");
                    }
                    name
                }
                Some(b) if is_name_start(b) => String::from(self.name()),
                Some(b'(') => return self.error_at(start, Problem::Unsupported("a computed key (...)")),
                _ => return self.syntax("an object key is missing"),
            };
            let value = if self.eat(":") {
                // jq parses an object's value without `,` at its top: `{a: 1, b: 2}`.
                self.object_value()?
            } else if variable {
                // The shorthands: `{$name}` is `{name: $name}`, `{id}` and `{"a b"}` read the key.
                Expr::Variable(key.clone())
            } else {
                Expr::Field(Box::new(Expr::Identity), key.clone(), false)
            };
            // jq keeps a repeated key's last value at its first place; the subset leaves it out.
            if entries.iter().any(|(known, _)| *known == key) {
                return self.error_at(start, Problem::Unsupported("a key repeated in an object"));
            }
            entries.push((key, value));
            if self.eat("}") {
                return Ok(Expr::Object(entries));
            }
            self.expect(",", "a , or } is missing")?;
        }
    }

    /// An object's value, as jq's grammar has it (`ExpD`): terms joined by `|`, so that `,`
    /// separates the entries; `//`, `==`, `and` and `or` need parentheses there.
    fn object_value(&mut self) -> Parsed<Expr> {
        let mut value = self.postfix()?;
        loop {
            self.skip_space();
            let rest = self.text.get(self.at..).unwrap_or(&[]);
            if rest.starts_with(b"|") && !rest.starts_with(b"|=") {
                if !is_path_or_select(&value) {
                    return self.syntax("the left side of | must be a path or a select");
                }
                self.at += 1;
                self.operator()?;
                value = Expr::Pipe(Box::new(value), Box::new(self.postfix()?));
                continue;
            }
            let needs_parentheses = ["//", "==", "!=", "and", "or"].iter().any(|op| rest.starts_with(op.as_bytes()));
            if needs_parentheses {
                return self.syntax("an object's value needs ( ) around //, ==, !=, and, or");
            }
            return Ok(value);
        }
    }
}

/// A step (`.q`, `[0]`, `[]`) as jq means it after an iteration, on each of its outputs: `P[].q`
/// written `P[] | .q` (and `P[][0]`, `P[].a.b[]` alike), so that the plan streams it as the
/// pipe's iteration (read as a path's step, `[.items[].id]` kept the whole document: 267 MB of
/// RSS for a 95 MB one).
fn after_iteration(mut step: Expr) -> Expr {
    let (Expr::Field(of, ..) | Expr::Index(of, ..) | Expr::Each(of, _)) = &mut step else { return step };
    match core::mem::replace(&mut **of, Expr::Identity) {
        Expr::Pipe(first, rest) => {
            **of = *rest;
            Expr::Pipe(first, Box::new(after_iteration(step)))
        }
        iteration @ Expr::Each(..) => Expr::Pipe(Box::new(iteration), Box::new(step)),
        other => {
            **of = other;
            step
        }
    }
}

fn is_path_or_select(expr: &Expr) -> bool {
    match expr {
        Expr::Identity | Expr::Variable(_) | Expr::Select(_) => true,
        Expr::Field(of, _, _) | Expr::Index(of, _, _) | Expr::Each(of, _) => is_path_or_select(of),
        Expr::Pipe(left, right) => is_path_or_select(left) && is_path_or_select(right),
        _ => false,
    }
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn field(of: Expr, key: &str) -> Expr {
        Expr::Field(Box::new(of), String::from(key), false)
    }

    fn refused(program: &str) -> String {
        parse(program).expect_err(program).message()
    }

    #[test]
    fn paths_chain_their_steps() {
        let dot = || Box::new(Expr::Identity);
        assert_eq!(parse("."), Ok(Expr::Identity));
        assert_eq!(parse(".foo"), Ok(field(Expr::Identity, "foo")));
        assert_eq!(parse(".\"foo bar\""), Ok(field(Expr::Identity, "foo bar")));
        assert_eq!(parse(".[\"foo\"]"), Ok(field(Expr::Identity, "foo")));
        assert_eq!(parse(".[2]"), Ok(Expr::Index(dot(), 2, false)));
        assert_eq!(parse(".[-1]"), Ok(Expr::Index(dot(), -1, false)));
        assert_eq!(parse(".[]"), Ok(Expr::Each(dot(), false)));
        assert_eq!(parse(".a?"), Ok(Expr::Field(dot(), String::from("a"), true)));
        assert_eq!(parse(".[]?"), Ok(Expr::Each(dot(), true)));
        let chained = parse(".data.items[0].tags[]").unwrap();
        let expected =
            Expr::Each(Box::new(field(Expr::Index(Box::new(field(field(Expr::Identity, "data"), "items")), 0, false), "tags")), false);
        assert_eq!(chained, expected);
        assert_eq!(parse(" . a "), Err(ShapeError { problem: Problem::UnsupportedName(String::from("a")), column: 4 }));
    }

    #[test]
    fn construction_and_shorthands() {
        let object = parse(r#"{a: .x, "b c": 1, id, $name, "k"}"#).unwrap();
        assert_eq!(
            object,
            Expr::Object(vec![
                (String::from("a"), field(Expr::Identity, "x")),
                (String::from("b c"), Expr::Literal(String::from("1"))),
                (String::from("id"), field(Expr::Identity, "id")),
                (String::from("name"), Expr::Variable(String::from("name"))),
                (String::from("k"), field(Expr::Identity, "k")),
            ])
        );
        assert_eq!(parse("[]"), Ok(Expr::Array(None)));
        assert_eq!(parse("{}"), Ok(Expr::Object(vec![])));
        assert!(matches!(parse("[.a, .b]"), Ok(Expr::Array(Some(inner))) if matches!(*inner, Expr::Comma(_, _))));
        assert!(matches!(parse("{a: (.x // 1), b: (.y | length)}"), Ok(Expr::Object(entries)) if entries.len() == 2));
    }

    #[test]
    fn operators_bind_as_in_jq() {
        let program = parse(r#".a | .b, .c // .d or .e and .f == 1"#).unwrap();
        let Expr::Pipe(_, right) = program else { panic!("| is lowest") };
        let Expr::Comma(_, right) = *right else { panic!(", below //") };
        let Expr::Alternative(_, right) = *right else { panic!("// below or") };
        let Expr::Or(_, right) = *right else { panic!("or below and") };
        let Expr::And(_, right) = *right else { panic!("and below ==") };
        assert!(matches!(*right, Expr::Equals(_, _, true)));
        assert!(matches!(parse("[.[] | select(.kind == \"a\") | .id]"), Ok(Expr::Array(Some(_)))));
        assert!(matches!(parse("map(.id)"), Ok(Expr::Map(_))));
        assert!(matches!(parse("select(has(\"k\") and (.a | not))"), Ok(Expr::Select(_))));
        assert_eq!(parse("length"), Ok(Expr::Length));
        assert!(matches!(parse(".a // .b // 3"), Ok(Expr::Alternative(_, right)) if matches!(*right, Expr::Alternative(_, _))));
        assert!(
            matches!(parse("$query.city"), Ok(Expr::Field(of, key, false)) if *of == Expr::Variable(String::from("query")) && key == "city")
        );
    }

    #[test]
    fn literals_keep_their_spelling() {
        for literal in ["1.0e+2", "-0.5", "123456789012345678901234567890", r#""\u00e9""#, "null", "true", "false"] {
            assert_eq!(parse(literal), Ok(Expr::Literal(String::from(literal))), "{literal}");
        }
        assert_eq!(parse(r#"."\u00e9""#), Ok(field(Expr::Identity, "\u{e9}")));
    }

    #[test]
    fn what_the_subset_leaves_out_is_named_with_its_column() {
        let cases = [
            ("reduce .[] as $x (0; . + $x)", "`reduce` is not supported (column 1)"),
            (".a | if . then 1 else 2 end", "`if` is not supported (column 6)"),
            (".a + 1", "`+` is not supported (column 4)"),
            (".a - 1", "`-` is not supported (column 4)"),
            ("..", "`..` is not supported (column 1)"),
            (".a |= 1", "`|=` is not supported (column 4)"),
            (".a = 1", "`=` is not supported (column 4)"),
            (".a < 1", "`< and >` is not supported (column 4)"),
            (".[1:2]", "`a slice [a:b]` is not supported (column 2)"),
            (".[.i]", "`an index that is not a number or a string` is not supported (column 2)"),
            ("sort", "`sort` is not supported (column 1)"),
            ("to_entries", "`to_entries` is not supported (column 1)"),
            ("@base64", "`@format` is not supported (column 1)"),
            (r#""a\(.b)""#, "`string interpolation \\(...)` is not supported (column 3)"),
            ("{(.k): 1}", "`a computed key (...)` is not supported (column 2)"),
            (".a ?// .b", "`?//` is not supported (column 4)"),
            ("def f: 1; f", "`def` is not supported (column 1)"),
            (".a as $x | $x", "`as` is not supported (column 4)"),
            ("try .a", "`try` is not supported (column 1)"),
            ("has(.k)", "`has() of anything but a string` is not supported (column 5)"),
        ];
        for (program, message) in cases {
            assert_eq!(refused(program), message, "{program}");
        }
    }

    #[test]
    fn broken_programs_say_where() {
        assert_eq!(refused(".a |"), "the program ends too early (column 5)");
        assert_eq!(refused("[.a"), "a ] is missing (column 4)");
        assert_eq!(refused("{a: 1"), "a , or } is missing (column 6)");
        assert_eq!(refused("(.a"), "a ) is missing (column 4)");
        assert_eq!(refused(".a == 1 == 2"), "comparisons do not chain: add parentheses (column 9)");
        assert_eq!(refused(r#""abc"#), "a string is not closed (column 1)");
        assert_eq!(refused("01"), "a number is not written as JSON writes it (column 1)");
        assert_eq!(refused("{a: .b // .c}"), "an object's value needs ( ) around //, ==, !=, and, or (column 8)");
        assert!(parse("{a: .b | .c, d: (.e // 1)}").is_ok());
        assert_eq!(refused("$"), "a $ without a variable name (column 2)");
        assert_eq!(parse(".[9223372036854775807]"), Ok(Expr::Index(Box::new(Expr::Identity), i64::MAX, false)));
        assert_eq!(refused(".[9223372036854775808]"), "an index too large (column 21)");
        assert_eq!(refused(".a ]"), "unexpected character (column 4)");
        assert_eq!(refused("[.a] | length"), "the left side of | must be a path or a select (column 6)");
        assert_eq!(refused("(.a, .b) | .c"), "the left side of | must be a path or a select (column 10)");
        assert!(parse(".items | length").is_ok() && parse(".[] | select(.a) | .b").is_ok());
        assert_eq!(parse("# a comment\n.a # another"), Ok(field(Expr::Identity, "a")));
        assert!(parse(&(String::from("[").repeat(31) + &"]".repeat(31))).is_ok());
        let deep = String::from("(").repeat(40) + "." + &")".repeat(40);
        assert_eq!(refused(&deep), "the program is nested too deeply (column 33)");
        let long = vec!["1"; 66].join(",");
        assert!(refused(&long).starts_with("the program has more than 64 operators"));
        assert!(parse(&vec![".a"; 65].join(" | ")).is_ok(), "64 operators");
        assert!(parse(&vec![".a"; 66].join(" | ")).is_err(), "65 operators");
    }

    #[test]
    fn a_question_mark_is_a_steps_own_and_steps_count_as_nesting() {
        // jq's `E?` after anything but a step is `try E`, which the subset leaves out: `.a.b??`
        // is `try .a.b?` in jq, not `.a.b?`.
        for (program, column) in
            [("(.a)?", 5), (".a??", 4), (".a.b? ?", 7), (".?", 2), ("[.a]?", 5), ("map(.a)?", 8), ("{a}?", 4), ("$x?", 3)]
        {
            assert_eq!(refused(program), format!("`? after anything but a step (try)` is not supported (column {column})"), "{program}");
        }
        assert_eq!(parse(".a ?"), parse(".a?"));
        assert_eq!(parse(".[0] ?"), Ok(Expr::Index(Box::new(Expr::Identity), 0, true)));
        assert!(parse(".a?//1").is_err() && parse(".a? // 1").is_ok());
        // A path's steps nest its evaluation as parentheses do: 32 levels in all.
        assert!(parse(&".a".repeat(32)).is_ok());
        assert_eq!(refused(&".a".repeat(33)), "the program is nested too deeply (column 67)");
        assert_eq!(refused(&".[0]".repeat(253)), "the program is nested too deeply (column 133)");
        assert!(parse(&(String::from("(").repeat(16) + &".a".repeat(16) + &")".repeat(16))).is_ok());
        assert!(parse(&(String::from("(").repeat(16) + &".a".repeat(17) + &")".repeat(16))).is_err());
        // jq keeps a repeated key's last value at its first place: left out, refused.
        assert_eq!(refused("{a: 1, b: 2, a: 3}"), "`a key repeated in an object` is not supported (column 14)");
        assert!(parse("{a, \"a\": 5}").is_err() && parse("{a: 1, \"\\u0061\": 2}").is_err());
    }
}

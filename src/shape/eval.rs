//! The evaluator of the shape language over a whole document in memory, with jq's meaning for
//! every construct: the order of a program's outputs, what `//`, `and`, `or` and `select` keep,
//! `length` and `keys` and `type`, and the run-time errors `?` silences.
//!
//! Values are the document's bytes: a value found in the document is its slice of the text
//! (numbers keep their spelling, strings their escapes, containers their inner whitespace); only
//! what the program builds (`{...}`, `[...]`, `length`, `keys`, `type`, comparisons) is new text.
//! `==` compares by value: numbers by exact decimal value (jq rounds them to doubles past 2^53,
//! a documented difference), strings by their decoded text, objects whatever their key order.
//!
//! This evaluator holds its input whole: the command's `--shape` on a document it captured
//! whole, each streamed element, and the sparse copy the plan leaves after a scan
//! ([`super::plan`]).
//!
//! What jq evaluates again for each output of another side (an object's later entries, the left
//! of `==`, the right of `and` and `or`) is evaluated once, as jq evaluates it the first time,
//! and its outputs handed on again after (`replayed`): the language is pure, so they are the
//! same, and a large value is not walked once per output.

use alloc::string::String;
use alloc::vec::Vec;

use super::parse::Expr;
use super::yields_one;
use crate::json::{decode_string, write_string};

/// A value: JSON text, either a slice of the document (or of the program) or text built here.
#[derive(Clone, Debug)]
pub enum Value<'d> {
    Found(&'d [u8]),
    Built(Vec<u8>),
}

impl Value<'_> {
    pub fn text(&self) -> &[u8] {
        match self {
            Value::Found(text) => trim(text),
            Value::Built(text) => text,
        }
    }
}

/// What a step of the program could not do with the value it met (jq's run-time errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError<'p> {
    /// The step, a node of the program: named in the message as the program spells it (`.a`,
    /// `.[0]`, `.[]`, `length`, `keys`, `has`, `map`, `==`). Pointed at, not spelled out where
    /// it fails: one spelling in `message` instead of one per step (352 bytes less).
    pub step: &'p Expr,
    /// The type of the value met: `number`, `string`, ...
    pub met: &'static str,
}

impl EvalError<'_> {
    /// `` `.a` cannot be applied to a number ``.
    pub fn message(&self) -> String {
        if self.met == STACK_FULL {
            return String::from("the program nests too deeply to evaluate (its stack is full)");
        }
        let mut text = String::from("`");
        match self.step {
            Expr::Field(_, key, _) => {
                let mut step = Vec::from(&b"."[..]);
                write_string(&mut step, key.as_bytes());
                text.push_str(crate::text::utf8(&step).unwrap_or(""));
            }
            Expr::Index(_, index, _) => {
                text.push_str(".[");
                if *index < 0 {
                    text.push_str("-");
                }
                crate::text::push_u64(&mut text, index.unsigned_abs());
                text.push_str("]");
            }
            Expr::Each(..) => text.push_str(".[]"),
            Expr::Equals(_, _, true) => text.push_str("=="),
            Expr::Equals(_, _, false) => text.push_str("!="),
            Expr::Map(_) => text.push_str("map"),
            Expr::Has(_) => text.push_str("has"),
            Expr::Keys => text.push_str("keys"),
            _ => text.push_str("length"),
        }
        text.push_str("` cannot be applied to ");
        text.push_str(if matches!(self.met, "array" | "object") { "an " } else { "a " });
        text.push_str(self.met);
        text
    }
}

/// The variables a program may read (`$query`, `$params`), each with its JSON text.
pub type Variables<'v> = [(&'v str, &'v [u8])];

/// Every output of `expr` for `input`, in jq's order.
pub fn eval<'d>(expr: &'d Expr, input: Value<'d>, variables: &Variables<'d>) -> Result<Vec<Value<'d>>, EvalError<'d>> {
    outputs_of(expr, &input, variables)
}

/// Every output of `expr` for `input`, collected (the input borrowed, never copied).
fn outputs_of<'d>(expr: &'d Expr, input: &Value<'d>, variables: &Variables<'d>) -> Result<Vec<Value<'d>>, EvalError<'d>> {
    let mut out = Vec::new();
    run(expr, input, variables, &mut |value| {
        out.push(value);
        Ok(())
    })?;
    Ok(out)
}

/// `expr`'s outputs for `input`, handed to `emit` as jq hands them each time it evaluates
/// `expr` again: the first time as they are made (so an error downstream of an early output is
/// met first, as in jq), kept in `kept` when `again` says it may be asked for again, then from
/// what was kept. The language is pure: a side that finished once yields the same outputs.
fn replayed<'d>(
    kept: &mut Option<Vec<Value<'d>>>,
    again: bool,
    expr: &'d Expr,
    input: &Value<'d>,
    vars: &Variables<'d>,
    emit: &mut Emit<'_, 'd>,
) -> Result<(), EvalError<'d>> {
    if let Some(values) = kept {
        return values.iter().try_for_each(|value| emit(value.clone()));
    }
    let mut values = Vec::new();
    run(expr, input, vars, &mut |value| {
        if again {
            values.push(value.clone());
        }
        emit(value)
    })?;
    if again {
        *kept = Some(values);
    }
    Ok(())
}

/// Where an expression's outputs go, one at a time: no vector per step (each output is handed
/// on as it is made, as jq's generators do).
type Emit<'e, 'd> = dyn FnMut(Value<'d>) -> Result<(), EvalError<'d>> + 'e;

/// The stack left when evaluating stops (wasm): what the deepest work below a step takes, `==`
/// on values nested 64 levels, with room to spare.
#[cfg(target_arch = "wasm32")]
const STACK_RESERVE: usize = 16 * 1024;

/// The `met` of an evaluation that ran out of stack (its message is its own).
pub const STACK_FULL: &str = "stack";

fn run<'d>(expr: &'d Expr, input: &Value<'d>, vars: &Variables<'d>, emit: &mut Emit<'_, 'd>) -> Result<(), EvalError<'d>> {
    let failed = |met| EvalError { step: expr, met };
    // Each step, pipe and comparison evaluates inside the one before (jq's generators), so a
    // program's depth is the stack's: the stack grows down towards address 0 (scripts/build puts
    // it first in memory), and evaluating stops with an error while a reserve is left instead
    // of running past it, a trap (`.a | .a | ...` sixty-four times twelve steps deep did).
    #[cfg(target_arch = "wasm32")]
    {
        let here = 0u8;
        if (&here as *const u8 as usize) < STACK_RESERVE {
            return Err(failed(STACK_FULL));
        }
    }
    match expr {
        Expr::Identity => emit(input.clone()),
        Expr::Literal(text) => emit(Value::Found(text.as_bytes())),
        Expr::Variable(name) => {
            let value = vars.iter().find(|(known, _)| known == name).map_or(&b"null"[..], |(_, value)| *value);
            emit(Value::Found(value))
        }
        Expr::Field(of, key, optional) => run(of, input, vars, &mut |value| match field(&value, key.as_bytes()) {
            Ok(found) => emit(found),
            Err(met) if !optional => Err(failed(met)),
            Err(_) => Ok(()),
        }),
        Expr::Index(of, index, optional) => run(of, input, vars, &mut |value| match element(&value, *index) {
            Ok(found) => emit(found),
            Err(met) if !optional => Err(failed(met)),
            Err(_) => Ok(()),
        }),
        Expr::Each(of, optional) => run(of, input, vars, &mut |value| each(&value, expr, *optional, emit)),
        Expr::Pipe(left, right) => run(left, input, vars, &mut |value| run(right, &value, vars, emit)),
        Expr::Comma(left, right) => {
            run(left, input, vars, emit)?;
            run(right, input, vars, emit)
        }
        Expr::Alternative(left, right) => {
            // The truthy outputs of the left side, else the right's. An error on the left is an
            // error, as in jq 1.6 (the tests' oracle); `?` silences it.
            let mut any = false;
            run(left, input, vars, &mut |value| {
                if !truthy(&value) {
                    return Ok(());
                }
                any = true;
                emit(value)
            })?;
            if any {
                return Ok(());
            }
            run(right, input, vars, emit)
        }
        // jq evaluates the right side again for each output of the left that does not decide;
        // it reads the same input each time, so its outputs are collected the first time and
        // handed on again (evaluated anew, `[.b[] and .a]` was quadratic in `.b`'s length).
        Expr::And(left, right) | Expr::Or(left, right) => {
            let is_and = matches!(expr, Expr::And(..));
            let (mut rights, again) = (None, !yields_one(left));
            run(left, input, vars, &mut |value| {
                if truthy(&value) != is_and {
                    return emit(boolean(!is_and));
                }
                replayed(&mut rights, again, right, input, vars, &mut |value| emit(boolean(truthy(&value))))
            })
        }
        // jq's order: the right side's outputs outermost; the left is evaluated for each, the
        // same each time: collected at the right side's first output (so a right side with none
        // never meets the left's errors).
        Expr::Equals(left, right, equal) => {
            let (mut lefts, again) = (None, !yields_one(right));
            run(right, input, vars, &mut |r| {
                replayed(&mut lefts, again, left, input, vars, &mut |l| {
                    let same = same(l.text(), r.text()).ok_or_else(|| failed("value nested too deeply"))?;
                    emit(boolean(same == *equal))
                })
            })
        }
        Expr::Not => emit(boolean(!truthy(input))),
        Expr::Select(condition) => run(condition, input, vars, &mut |value| if truthy(&value) { emit(input.clone()) } else { Ok(()) }),
        Expr::Map(inner) => {
            let mut items = Vec::from(&b"["[..]);
            each(input, expr, false, &mut |member| {
                run(inner, &member, vars, &mut |value| {
                    push_item(&mut items, value.text());
                    Ok(())
                })
            })?;
            items.push(b']');
            emit(Value::Built(items))
        }
        Expr::Array(inner) => {
            let mut items = Vec::from(&b"["[..]);
            if let Some(inner) = inner {
                run(inner, input, vars, &mut |value| {
                    push_item(&mut items, value.text());
                    Ok(())
                })?;
            }
            items.push(b']');
            emit(Value::Built(items))
        }
        Expr::Object(entries) => build_objects(entries, input, vars, emit),
        Expr::Has(key) => match kind(input.text()) {
            // jq 1.6 answers `false` for null.
            "null" => emit(boolean(false)),
            "object" => {
                let mut found = false;
                walk_members(input.text(), &mut |literal, _| {
                    found = literal.is_some_and(|literal| names_key(literal, key.as_bytes()));
                    !found
                });
                emit(boolean(found))
            }
            met => Err(failed(met)),
        },
        Expr::Length => emit(length(input).map_err(failed)?),
        Expr::Keys => emit(keys(input).map_err(failed)?),
        Expr::Type => emit(Value::Built(quoted(kind(input.text())))),
    }
}

/// `.[]` (or `map`'s) of `value`, `step` named by its error: each member handed to `emit`. An
/// array found in the document is walked, no vector of its elements (an array of 100 million
/// zeros needed 4 GB for one).
fn each<'d>(value: &Value<'d>, step: &'d Expr, optional: bool, emit: &mut Emit<'_, 'd>) -> Result<(), EvalError<'d>> {
    match (value, kind(value.text())) {
        (Value::Found(text), "array") => {
            let mut handed = Ok(());
            walk_members(trim(text), &mut |_, member| {
                handed = emit(Value::Found(member));
                handed.is_ok()
            });
            handed
        }
        _ => match members(value) {
            Ok(members) => members.into_iter().try_for_each(|(_, member)| emit(member)),
            Err(met) if !optional => Err(EvalError { step, met }),
            Err(_) => Ok(()),
        },
    }
}

/// Appends an item to an array's text being built, `[` and the items so far (the array is closed
/// by its builder).
pub(super) fn push_item(items: &mut Vec<u8>, text: &[u8]) {
    if items.len() > 1 {
        items.push(b',');
    }
    items.extend_from_slice(text);
}

/// Every combination of the entries' outputs, the first entry varying slowest, as jq yields
/// them. jq evaluates an entry once per combination of those before it; since every entry reads
/// the same input its outputs are the same each time, so each entry is evaluated once, in order
/// (an entry after one that yields nothing is never evaluated, nor are its errors met), and
/// their combinations are counted through, not recursed into: an object of a hundred entries
/// recursing once per entry overflowed the stack, and `{x: .b[], n: (.b | length)}` evaluating
/// its last entry once per element of `.b` was quadratic in time and memory.
fn build_objects<'d>(
    entries: &'d [(String, Expr)],
    input: &Value<'d>,
    vars: &Variables<'d>,
    emit: &mut Emit<'_, 'd>,
) -> Result<(), EvalError<'d>> {
    let Some(((last_key, last), firsts)) = entries.split_last() else {
        return emit(Value::Built(Vec::from(&b"{}"[..])));
    };
    let mut outputs = Vec::new();
    for (_, value) in firsts {
        let values = outputs_of(value, input, vars)?;
        if values.is_empty() {
            return Ok(());
        }
        outputs.push(values);
    }
    // The last entry is asked for again only when there is more than one combination.
    let (mut lasts, again) = (None, outputs.iter().any(|values| values.len() > 1));
    let mut chosen = alloc::vec![0; firsts.len()];
    loop {
        let mut object = Vec::from(&b"{"[..]);
        for (((key, _), values), &k) in firsts.iter().zip(&outputs).zip(&chosen) {
            write_string(&mut object, key.as_bytes());
            object.push(b':');
            object.extend_from_slice(values.get(k).map_or(&b"null"[..], Value::text));
            object.push(b',');
        }
        write_string(&mut object, last_key.as_bytes());
        object.push(b':');
        replayed(&mut lasts, again, last, input, vars, &mut |value| {
            let mut whole = Vec::with_capacity(object.len() + value.text().len() + 1);
            whole.extend_from_slice(&object);
            whole.extend_from_slice(value.text());
            whole.push(b'}');
            emit(Value::Built(whole))
        })?;
        if lasts.as_ref().is_some_and(Vec::is_empty) {
            // No combination has an output.
            return Ok(());
        }
        // The next combination: the entry before the last's next output, or its first and the
        // next of the one before it.
        let mut i = firsts.len();
        loop {
            let Some(before) = i.checked_sub(1) else { return Ok(()) };
            i = before;
            if let (Some(k), Some(values)) = (chosen.get_mut(i), outputs.get(i)) {
                *k += 1;
                if *k < values.len() {
                    break;
                }
                *k = 0;
            }
        }
    }
}

fn boolean(value: bool) -> Value<'static> {
    Value::Found(if value { b"true" } else { b"false" })
}

fn quoted(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    write_string(&mut out, text.as_bytes());
    out
}

fn truthy(value: &Value) -> bool {
    !matches!(value.text(), b"null" | b"false")
}

fn trim(text: &[u8]) -> &[u8] {
    text.trim_ascii()
}

/// The type of a JSON text, by its first byte.
pub fn kind(text: &[u8]) -> &'static str {
    match trim(text).first() {
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

/// The end of the value that starts at `text[at]` (a validated document: no check here).
fn skip(text: &[u8], mut at: usize) -> usize {
    let mut depth = 0usize;
    while let Some(&b) = text.get(at) {
        at += 1;
        match b {
            b'"' => {
                // A string's text in a tight loop of its own (a fifth of the time of
                // `[.[] | select(.kind == "a") | .id]` was spent here with one loop for all).
                loop {
                    match text.get(at) {
                        Some(b'"') | None => break,
                        Some(b'\\') => at += 2,
                        Some(_) => at += 1,
                    }
                }
                at += 1;
                if depth == 0 {
                    return at;
                }
            }
            b'{' | b'[' => depth += 1,
            // A scalar ends before its container's closing bracket.
            b'}' | b']' if depth == 0 => return at - 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return at;
                }
            }
            b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return at - 1,
            _ => {}
        }
    }
    at
}

/// Members, each with its decoded key when they are an object's.
type Members<'d> = Vec<(Option<Vec<u8>>, Value<'d>)>;

/// Hands `visit` each member of the array or object `text` as found: its key's literal (quotes
/// and escapes as written) for an object's, and its value; `visit` returns false to stop. A
/// repeated key is handed over each time. Nothing is allocated: an index or a key into a large
/// value costs no memory.
pub(super) fn walk_members<'d>(text: &'d [u8], visit: &mut dyn FnMut(Option<&'d [u8]>, &'d [u8]) -> bool) {
    let is_object = text.first() == Some(&b'{');
    let mut at = 1;
    loop {
        while text.get(at).is_some_and(|b| b.is_ascii_whitespace() || *b == b',') {
            at += 1;
        }
        if matches!(text.get(at), Some(b'}' | b']') | None) {
            return;
        }
        let mut name = None;
        if is_object {
            let end = skip(text, at);
            name = text.get(at..end);
            at = end;
            while text.get(at).is_some_and(|b| b.is_ascii_whitespace() || *b == b':') {
                at += 1;
            }
        }
        let end = skip(text, at);
        if !visit(name, text.get(at..end).unwrap_or(&[])) {
            return;
        }
        at = end;
    }
}

/// Whether a key's literal, as written, decodes to `key` (without decoding the common case).
pub(super) fn names_key(literal: &[u8], key: &[u8]) -> bool {
    match literal.get(1..literal.len().saturating_sub(1)) {
        Some(inner) if !inner.iter().any(|&b| b == b'\\') => inner == key,
        _ => decode_string(literal) == key,
    }
}

/// The members of an array (no names) or an object (their decoded keys), as found in `value`.
fn members<'d>(value: &Value<'d>) -> Result<Members<'d>, &'static str> {
    let Value::Found(document) = value else {
        // Built text lives in this evaluator's frame: copy what is found in it.
        return members(&Value::Found(value.text()))
            .map(|found| found.into_iter().map(|(name, value)| (name, Value::Built(value.text().to_vec()))).collect());
    };
    let text = trim(document);
    if !matches!(text.first(), Some(b'{' | b'[')) {
        return Err(kind(text));
    }
    let mut found: Members<'d> = Vec::new();
    walk_members(text, &mut |literal, value| {
        found.push((literal.map(decode_string), Value::Found(value)));
        true
    });
    // A key given twice is one member, as jq reads it: at the first one's place, with the last
    // one's value. Found through the members in the order of their names (a search of the
    // members so far for each was quadratic: `length` of 400,000 elements took 115 s).
    if text.first() == Some(&b'{') {
        let mut first = usize::MAX;
        for at in by_name(&found) {
            // The later of two members of one name swaps its value into the first's place and
            // goes (no name marks it: an object's members all have one).
            if first < found.len() && at < found.len() && found[first].0 == found[at].0 {
                found.swap(first, at);
                found[at].0 = None;
            } else {
                first = at;
            }
        }
        found.retain(|(name, _)| name.is_some());
    }
    Ok(found)
}

/// The positions of `members` sorted by their names (by code point, as UTF-8 bytes sort), equal
/// names (and an array's, none) in document order: a heapsort of (name, position), O(n log n)
/// in place. Core's sort costs 2.5 KB; inserting into a sorted vector was quadratic.
fn by_name(members: &Members) -> Vec<usize> {
    let less = |a: usize, b: usize| {
        let name = |at: usize| members.get(at).and_then(|(name, _)| name.as_deref()).unwrap_or_default();
        name(a).cmp(name(b)).then(a.cmp(&b)).is_lt()
    };
    // Moves `heap[root]` down until neither child is greater.
    let sift = |heap: &mut [usize], mut root: usize| loop {
        let mut child = 2 * root + 1;
        if let (Some(&left), Some(&right)) = (heap.get(child), heap.get(child + 1)) {
            child += usize::from(less(left, right));
        }
        match (heap.get(root), heap.get(child)) {
            (Some(&parent), Some(&larger)) if less(parent, larger) => heap.swap(root, child),
            _ => break,
        }
        root = child;
    };
    let mut order: Vec<usize> = (0..members.len()).collect();
    for root in (0..order.len() / 2).rev() {
        sift(&mut order, root);
    }
    for end in (1..order.len()).rev() {
        order.swap(0, end);
        sift(order.get_mut(..end).unwrap_or_default(), 0);
    }
    order
}

/// The members in the order of their names.
fn in_name_order<'m, 'd>(members: &'m Members<'d>) -> Vec<&'m (Option<Vec<u8>>, Value<'d>)> {
    by_name(members).into_iter().filter_map(|at| members.get(at)).collect()
}

/// `.key`: the value of the last member named `key` (jq keeps the last of a repeated key), `null`
/// for none or for `null`; `Err` with the type met for anything but an object or null.
fn field<'d>(value: &Value<'d>, key: &[u8]) -> Result<Value<'d>, &'static str> {
    match (kind(value.text()), value) {
        ("null", _) => Ok(Value::Found(b"null")),
        ("object", Value::Found(text)) => {
            let mut last = Value::Found(b"null");
            walk_members(trim(text), &mut |literal, found| {
                if literal.is_some_and(|literal| names_key(literal, key)) {
                    last = Value::Found(found);
                }
                true
            });
            Ok(last)
        }
        ("object", _) => {
            let members = members(value)?;
            let last = members.into_iter().rev().find(|(name, _)| name.as_deref() == Some(key));
            Ok(last.map_or(Value::Found(b"null"), |(_, value)| value))
        }
        (met, _) => Err(met),
    }
}

/// How many members the array `text` has.
fn count(text: &[u8]) -> usize {
    let mut count = 0;
    walk_members(text, &mut |_, _| {
        count += 1;
        true
    });
    count
}

/// `.[n]`, counted from the end when negative; `null` past either end or of `null`.
fn element<'d>(value: &Value<'d>, index: i64) -> Result<Value<'d>, &'static str> {
    match (kind(value.text()), value) {
        ("null", _) => Ok(Value::Found(b"null")),
        ("array", Value::Found(text)) => {
            let text = trim(text);
            let at = if index < 0 { count(text) as i64 + index } else { index };
            let mut found = Value::Found(b"null");
            let mut i = 0;
            walk_members(text, &mut |_, member| {
                if i == at {
                    found = Value::Found(member);
                }
                i += 1;
                i <= at
            });
            Ok(found)
        }
        ("array", _) => {
            let members = members(value)?;
            let at = if index < 0 { members.len() as i64 + index } else { index };
            let found = usize::try_from(at).ok().and_then(|at| members.into_iter().nth(at));
            Ok(found.map_or(Value::Found(b"null"), |(_, value)| value))
        }
        (met, _) => Err(met),
    }
}

/// jq's `length`: of an array or object its members, of a string its code points, of `null` 0, of
/// a number its absolute value, written as the document writes it (`-1.5` is `1.5`).
fn length<'d>(value: &Value<'d>) -> Result<Value<'d>, &'static str> {
    let text = value.text();
    let count = match kind(text) {
        // An array's members counted, never collected; an object's repeated keys count once.
        "array" => count(text),
        "object" => members(value)?.len(),
        // Code points: the bytes that do not continue one (the decoded text is UTF-8).
        "string" => decode_string(text).iter().filter(|&&b| b & 0xc0 != 0x80).count(),
        "null" => 0,
        "number" => return Ok(Value::Built(text.strip_prefix(b"-").unwrap_or(text).to_vec())),
        met => return Err(met),
    };
    let mut digits = String::new();
    crate::text::push_u64(&mut digits, count as u64);
    Ok(Value::Built(digits.into_bytes()))
}

/// An object's decoded keys (each once: `members` joins a repeated one), sorted by code point, as
/// UTF-8 bytes sort.
fn sorted_names(members: Members) -> Vec<Vec<u8>> {
    in_name_order(&members).into_iter().filter_map(|(name, _)| name.clone()).collect()
}

/// jq's `keys`: an object's keys sorted by code point (each once), an array's indexes.
fn keys<'d>(value: &Value<'d>) -> Result<Value<'d>, &'static str> {
    let mut items = Vec::from(&b"["[..]);
    match kind(value.text()) {
        "object" => {
            for name in sorted_names(members(value)?) {
                let mut text = Vec::new();
                write_string(&mut text, &name);
                push_item(&mut items, &text);
            }
        }
        // An array's indexes, its elements counted, never collected.
        "array" => {
            // One buffer for the digits: nothing is freed, and a String per index of 100
            // million took 3.3 GB.
            let mut digits = String::new();
            for i in 0..count(value.text()) {
                digits.clear();
                crate::text::push_u64(&mut digits, i as u64);
                push_item(&mut items, digits.as_bytes());
            }
        }
        met => return Err(met),
    }
    items.push(b']');
    Ok(Value::Built(items))
}

/// The deepest nesting `==` compares: it recurses once a level, within the stack's reserve.
const MAX_COMPARED_DEPTH: usize = 64;

/// Whether two JSON texts are the same value: numbers by exact decimal value, strings by their
/// decoded text, arrays member by member, objects by their keys (the last of a repeated one)
/// whatever their order; `None` for values spelled differently and nested deeper than 64 levels.
pub fn same(a: &[u8], b: &[u8]) -> Option<bool> {
    same_within(a, b, MAX_COMPARED_DEPTH)
}

fn same_within(a: &[u8], b: &[u8], depth: usize) -> Option<bool> {
    let (a, b) = (trim(a), trim(b));
    // The same text is the same value, however deep: `select(.kind == "a")` mostly meets its
    // literal's own spelling, and needs no decoding for it.
    if a == b {
        return Some(true);
    }
    let containers = matches!((kind(a), kind(b)), ("array", "array") | ("object", "object"));
    if containers && depth == 0 {
        return None;
    }
    Some(match (kind(a), kind(b)) {
        ("number", "number") => decimal(a) == decimal(b),
        // Without an escape a string's text is its decoding, and the texts differ (above); an
        // escape is at most six bytes for one of its decoding, so texts more than six times as
        // long as each other differ too (a 1 MB string was scanned for each short one it met).
        ("string", "string") => {
            a.len().div_ceil(6) <= b.len()
                && b.len().div_ceil(6) <= a.len()
                && a.iter().chain(b).any(|&byte| byte == b'\\')
                && decode_string(a) == decode_string(b)
        }
        ("array", "array") => {
            let (left, right) = (members(&Value::Found(a)).unwrap_or_default(), members(&Value::Found(b)).unwrap_or_default());
            if left.len() != right.len() {
                return Some(false);
            }
            for ((_, l), (_, r)) in left.iter().zip(&right) {
                if !same_within(l.text(), r.text(), depth - 1)? {
                    return Some(false);
                }
            }
            true
        }
        ("object", "object") => {
            // Both in the order of their keys, compared pairwise: looking each key up in both
            // was quadratic.
            let (left, right) = (members(&Value::Found(a)).unwrap_or_default(), members(&Value::Found(b)).unwrap_or_default());
            if left.len() != right.len() {
                return Some(false);
            }
            let (left, right) = (in_name_order(&left), in_name_order(&right));
            if left.iter().zip(&right).any(|(l, r)| l.0 != r.0) {
                return Some(false);
            }
            for ((_, l), (_, r)) in left.into_iter().zip(right) {
                if !same_within(l.text(), r.text(), depth - 1)? {
                    return Some(false);
                }
            }
            true
        }
        (left, right) => left == right && a == b,
    })
}

/// A number's exact value as (negative, significant digits without leading or trailing zeros,
/// the power of ten of the last digit): `1.0e+2`, `100` and `1e2` are all `(false, "1", 2)`.
/// One pass over a validated number (a loop per part cost 431 bytes more). The power is an
/// `i128`: an exponent past an `i64` (`1e9223372036854775808`) is still exact, up to 38 digits;
/// past that it saturates, and such exponents compare equal.
fn decimal(text: &[u8]) -> (bool, Vec<u8>, i128) {
    // Below this an exponent can take one more digit: compared, not divided (`i128` division and
    // multiplication are library routines in wasm).
    const BOUND: i128 = i128::MAX / 10 - 10;
    let mut digits = Vec::new();
    let (mut power, mut exponent) = (0i128, 0i128);
    let (mut fraction, mut in_exponent, mut exponent_negative) = (false, false, false);
    for &b in text {
        match b {
            b'.' => fraction = true,
            b'e' | b'E' => in_exponent = true,
            b'-' if in_exponent => exponent_negative = true,
            b'0'..=b'9' if in_exponent => {
                let digit = i128::from(b - b'0');
                exponent = if exponent > BOUND { BOUND } else { (exponent << 3) + (exponent << 1) + digit };
            }
            b'0'..=b'9' => {
                // Leading zeros are no digits of the value; in a fraction they still move it.
                if b != b'0' || !digits.is_empty() {
                    digits.push(b);
                }
                if fraction {
                    power -= 1;
                }
            }
            _ => {}
        }
    }
    power += if exponent_negative { -exponent } else { exponent };
    while digits.last() == Some(&b'0') {
        digits.pop();
        power += 1;
    }
    if digits.is_empty() {
        return (false, digits, 0);
    }
    (text.first() == Some(&b'-'), digits, power)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::parse;

    fn outputs(program: &str, document: &str) -> Result<Vec<String>, String> {
        let expr = parse(program).unwrap();
        let vars: [(&str, &[u8]); 1] = [("query", br#"{"city":"Oslo"}"#)];
        let found = eval(&expr, Value::Found(document.as_bytes()), &vars).map_err(|error| error.message())?;
        Ok(found.iter().map(|v| String::from_utf8(v.text().to_vec()).unwrap()).collect())
    }

    /// Large objects with many repeated keys in scrambled order, against serde_json (whose map
    /// keeps each key once, its last value, in sorted order: jq's `keys`): `keys`, `length`, a
    /// key's value, the members in the order of each key's first place (jq's `.[]`), and `==`
    /// whatever the order. A member search per member was quadratic here, as `keys`' insertion.
    #[test]
    fn large_objects_with_repeated_keys_keep_each_key_once() {
        for (members, pool) in [(0, 1), (1, 1), (7, 3), (2_000, 50), (3_001, 3_001), (4_096, 1)] {
            let key = |i: usize| format!("k{}", (i * 7_919) % pool);
            let text = |order: &mut dyn Iterator<Item = usize>| {
                let entries: Vec<String> = order.map(|i| format!("\"{}\":{i}", key(i))).collect();
                format!("{{{}}}", entries.join(","))
            };
            let document = text(&mut (0..members));
            let oracle: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&document).unwrap();
            let mut firsts: Vec<String> = Vec::new();
            for i in 0..members {
                if !firsts.contains(&key(i)) {
                    firsts.push(key(i));
                }
            }
            let json = |value: &dyn Fn() -> serde_json::Value| vec![value().to_string()];
            assert_eq!(outputs("keys", &document).unwrap(), json(&|| oracle.keys().cloned().collect()));
            assert_eq!(outputs("length", &document).unwrap(), vec![oracle.len().to_string()]);
            assert_eq!(outputs("[.[]]", &document).unwrap(), json(&|| firsts.iter().map(|k| oracle[k].clone()).collect()));
            for k in firsts.iter().take(3) {
                assert_eq!(outputs(&format!(".{k}"), &document).unwrap(), vec![oracle[k].to_string()]);
            }
            // The same members, the later of each key last: equal whatever the order.
            let mut reordered: Vec<usize> = (0..members).collect();
            reordered.sort_by_key(|&i| (core::cmp::Reverse(firsts.iter().position(|k| *k == key(i))), i));
            let other = text(&mut reordered.into_iter());
            assert_eq!(same(document.as_bytes(), other.as_bytes()), Some(true), "{members} {pool}");
            if members > 1 && pool > 1 {
                let changed = other.replacen(&format!(":{}", members - 1), ":-1", 1);
                assert_eq!(same(document.as_bytes(), changed.as_bytes()), Some(false), "{members} {pool}");
            }
        }
    }

    /// jq's order (the first entry slowest), an entry after one that yields nothing never run, the
    /// errors of each entry met once, and no recursion per entry.
    #[test]
    fn objects_are_every_combination_of_their_entries() {
        let combinations = outputs("{a: (1, 2), b: (3, 4), c: 5}", "null").unwrap();
        assert_eq!(combinations, [r#"{"a":1,"b":3,"c":5}"#, r#"{"a":1,"b":4,"c":5}"#, r#"{"a":2,"b":3,"c":5}"#, r#"{"a":2,"b":4,"c":5}"#]);
        assert_eq!(outputs("[{a: .x[]?, b: .x.y}]", r#"{"x":1}"#).unwrap(), ["[]"]);
        assert_eq!(outputs("{}", "1").unwrap(), ["{}"]);
        assert_eq!(outputs("[{a: (.x, .x.y)}]", r#"{"x":1}"#).unwrap_err(), "`.\"y\"` cannot be applied to a number");
        let entries: Vec<String> = (0..5000).map(|i| format!("k{i}: .x")).collect();
        let wide = outputs(&format!("{{{}}}", entries.join(",")), r#"{"x":1}"#).unwrap();
        let members: Vec<String> = (0..5000).map(|i| format!("\"k{i}\":1")).collect();
        assert_eq!(wide, [format!("{{{}}}", members.join(","))]);
    }

    /// What jq evaluates again for each output of another side (an object's later entries, the
    /// left of `==`, the right of `and` and `or`) is evaluated once and handed on each time: the
    /// same outputs (jq 1.6's, checked by hand) and the same errors, met only where jq meets them.
    #[test]
    fn sides_that_jq_evaluates_again_are_evaluated_once() {
        let document = r#"{"b":[1,false,3],"a":5,"s":"x","e":[],"f":[false,null]}"#;
        for (program, expected) in [
            ("[{x: .b[], n: (.b | length)}]", r#"[{"x":1,"n":3},{"x":false,"n":3},{"x":3,"n":3}]"#),
            ("[.a == .b[]]", "[false,false,false]"),
            ("[.b[] == .a]", "[false,false,false]"),
            ("[.b[] and .a]", "[true,false,true]"),
            ("[.b[] or .a]", "[true,true,true]"),
            ("[.f[] and .a.x]", "[false,false]"),
            ("[.a.x == .e[]]", "[]"),
            ("[{x: .b[], y: .s, z: (.e[])}]", "[]"),
        ] {
            assert_eq!(outputs(program, document).unwrap(), [expected], "{program}");
        }
        assert_eq!(outputs("[.b[] and .a.x]", document).unwrap_err(), "`.\"x\"` cannot be applied to a number");
        assert_eq!(outputs("[.b[] or .s.y]", document).unwrap_err(), "`.\"y\"` cannot be applied to a string");
        // The first evaluation hands its outputs on as they come: an error downstream of an early
        // output is met before a later output's own (jq 1.6: "Cannot index number with "z"").
        for program in [
            "[.[] | select((., .y) == 5) | .z]",
            "[.[] | select(true and (., .y)) | .z]",
            "[.[] | select({k: (., .y)}) | .z]",
            "[.[] | select({j: (1, 2), k: (., .y)}) | .z]",
        ] {
            assert_eq!(outputs(program, "[5]").unwrap_err(), "`.\"z\"` cannot be applied to a number", "{program}");
        }
    }

    #[test]
    fn values_are_the_documents_bytes() {
        let document = r#"{"a": {"x" : 1.0e+2, "s": "caf\u00e9"}, "n": 123456789012345678901234567890}"#;
        assert_eq!(outputs(".a", document).unwrap(), [r#"{"x" : 1.0e+2, "s": "caf\u00e9"}"#]);
        assert_eq!(outputs(".a.x, .a.s, .n", document).unwrap(), ["1.0e+2", r#""caf\u00e9""#, "123456789012345678901234567890"]);
        assert_eq!(outputs("{n, x: .a.x}", document).unwrap(), [r#"{"n":123456789012345678901234567890,"x":1.0e+2}"#]);
    }

    #[test]
    fn numbers_compare_by_exact_value_strings_by_text() {
        for (a, b) in
            [("1.0e+2", "100"), ("1e2", "100.000"), ("0", "-0.0"), ("123456789012345678901234567890", "1.2345678901234567890123456789e29")]
        {
            assert_eq!(same(a.as_bytes(), b.as_bytes()), Some(true), "{a} {b}");
        }
        assert_eq!(same(b"9007199254740993", b"9007199254740992"), Some(false), "no rounding to doubles");
        // Exponents past an i64's range, exact (a second differential run against jq found them
        // saturated: equal numbers unequal, different ones equal).
        for (a, b, equal) in [
            ("12e9223372036854775807", "1.2e9223372036854775808", true),
            ("0.1e-9223372036854775807", "1e-9223372036854775808", true),
            ("1000e9223372036854775806", "1e9223372036854775809", true),
            ("1e9223372036854775807", "1e9223372036854775808", false),
            ("1e9223372036854775808", "1e9223372036854775809", false),
            ("1e18446744073709551616", "1e18446744073709551617", false),
            ("1e-9223372036854775808", "1e-9223372036854775809", false),
            ("0e99999999999999999999999999999999999999999999", "0", true),
        ] {
            assert_eq!(same(a.as_bytes(), b.as_bytes()), Some(equal), "{a} {b}");
        }
        assert_eq!(same(br#""\u00e9""#, "\"\u{e9}\"".as_bytes()), Some(true));
        // Escapes as long as they come (six bytes for one), against their decoding.
        assert_eq!(same(format!("\"{}\"", "\\u0061".repeat(10)).as_bytes(), format!("\"{}\"", "a".repeat(10)).as_bytes()), Some(true));
        assert_eq!(same(br#""\ud83d\ude00""#, "\"\u{1f600}\"".as_bytes()), Some(true));
        assert_eq!(same(br#""a""#, format!("\"{}\"", "a".repeat(100)).as_bytes()), Some(false));
        assert_eq!(same(br#"{"a":1,"b":[1,2]}"#, br#"{"b":[1,2.0],"a":1}"#), Some(true));
        for (a, b) in [(&br#"{"a":1}"#[..], &br#"{"a":1,"b":2}"#[..]), (b"1", br#""1""#), (b"null", b"false")] {
            assert_eq!(same(a, b), Some(false));
        }
        let deep = |n: usize| String::from("[").repeat(n) + &"]".repeat(n);
        assert_eq!(same(deep(64).as_bytes(), deep(64).as_bytes()), Some(true));
        // Spelled alike, any depth is the same value (jq's answer); spelled otherwise, too deep.
        assert_eq!(same(deep(65).as_bytes(), deep(65).as_bytes()), Some(true));
        assert_eq!(same(deep(65).as_bytes(), deep(65).replace("[]", "[ ]").as_bytes()), None);
        assert_eq!(outputs(". == .", &deep(100)).unwrap(), ["true"]);
        assert_eq!(outputs(".[0] == .", &deep(100)).unwrap_err(), "`==` cannot be applied to a value nested too deeply");
    }

    #[test]
    fn errors_name_the_step_and_the_type_met() {
        assert_eq!(outputs(".a", "1").unwrap_err(), "`.\"a\"` cannot be applied to a number");
        assert_eq!(outputs(".[]", "\"x\"").unwrap_err(), "`.[]` cannot be applied to a string");
        assert_eq!(outputs(".[0]", "{}").unwrap_err(), "`.[0]` cannot be applied to an object");
        assert_eq!(outputs("length", "true").unwrap_err(), "`length` cannot be applied to a boolean");
        assert_eq!(outputs("[.a?, .[]?]", "1").unwrap(), ["[]"]);
    }

    #[test]
    fn a_repeated_key_is_one_member_and_huge_exponents_compare() {
        let document = r#"{"a":1,"b":0,"a":2}"#;
        assert_eq!(outputs("length", document).unwrap(), ["2"]);
        assert_eq!(outputs("[.[]]", document).unwrap(), ["[2,0]"]);
        assert_eq!(outputs(".a, keys", document).unwrap(), ["2", r#"["a","b"]"#]);
        assert_eq!(
            same(b"10e99999999999999999999", b"1e99999999999999999999"),
            Some(false),
            "exact, as every number compares (jq finds both infinite, and equal); no overflow"
        );
    }
}

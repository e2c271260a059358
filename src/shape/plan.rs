//! The plan: which values of the document a program reads, so that the scanner finds them as the
//! document streams in and nothing else is kept.
//!
//! The program is walked once from its root, knowing at each node the path of the document its
//! input comes from. A path read (`.user.id`) is *captured*: the scanner copies its value. An
//! iteration on a path (`P[] | F`, `map(F)` on `P`) is a *stream*: the scanner hands over each
//! element of `P` as soon as it is complete, `F` runs on that element alone, its outputs are kept
//! and the element is forgotten; in the program the iteration becomes `$#k[]`, a variable bound
//! to those outputs. A path whose value is only stepped into (`.a | {b}`) is a *probe*: the
//! scanner notes the type of what it meets along it and copies nothing.
//!
//! After the scan, the captured values and the types met are written out as a sparse copy of the
//! document, holding exactly what the program reads (a scalar met where a container was wanted is
//! written as one of its type, `0` or `""`, so that the step fails as jq's does), and the program
//! runs on it with the whole-document evaluator. Its outputs come in jq's order whatever the
//! order of the document's keys. Where the walk meets what it cannot split (`length`, `keys`,
//! `select` of a path, `.[-1]`), it captures that value whole: always the right answer, if not
//! always in the least memory.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::direct::{direct, Direct};
use super::eval::{eval, push_item, EvalError, Value, Variables};
use super::parse::Expr;
use super::yields_one;
use crate::error::RelayError;
use crate::json::{write_string, MAX_PATHS};
use crate::path::{Names, Path, Segment};
use crate::relay::{Projection, Sink};

/// An index step past this is read from its whole array: the sparse copy writes a `0` for each
/// element before the one read (two bytes each, never read: a program that reads them all,
/// `length` or `.[]`, has the array captured whole).
const MAX_SPARSE_INDEX: i64 = 1 << 20;

/// A program and the paths its scan follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The program, each streamed iteration replaced by its variable.
    program: Expr,
    /// Captured paths and probes, then one path per stream (ending in `[]`).
    paths: Vec<Path>,
    /// Which of `paths` are probes.
    probes: u64,
    streams: Vec<Stream>,
    /// The variable whose document is planned (`None`: `.`).
    root: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Stream {
    /// Its path in `paths`.
    path: usize,
    /// The iteration as the program spells it (its `?` included), from the root: run on the sparse
    /// copy, it meets the errors jq meets iterating (`.[]` of a number).
    iterate: Expr,
    /// What each element goes through.
    apply: Expr,
    /// `#k` (`#name#k` in a variable's plan), the variable that holds the outputs (no program
    /// can name it).
    name: String,
}

impl Plan {
    pub fn new(program: &Expr) -> Plan {
        Plan::planned(program, None)
    }

    /// The plan of what `program` reads of the document `$name` holds (one of several
    /// upstreams'): its paths captured or probed, and its iterations streamed where what each
    /// element goes through reads no variable (nothing but the element is there while the
    /// document streams in). Its program is the whole program with those iterations replaced by
    /// their variables (`#name#k`); the reader it drives answers with the sparse copy, which the
    /// program reads as `$name`, then each stream's outputs ([`Shaper::finish`]).
    pub fn for_variable(program: &Expr, name: &str) -> Plan {
        Plan::planned(program, Some(String::from(name)))
    }

    fn planned(program: &Expr, root: Option<String>) -> Plan {
        let at: Option<&[Segment]> = if root.is_none() { Some(&[]) } else { None };
        let mut plan = Plan { program: Expr::Identity, paths: Vec::new(), probes: 0, streams: Vec::new(), root };
        plan.program = plan.walk(program, at, true);
        for stream in &mut plan.streams {
            stream.path += plan.paths.len();
        }
        let stream_paths = plan.streams.iter().map(|stream| stream_path(&stream.iterate));
        let stream_paths: Vec<Path> = stream_paths.collect();
        // Then, for a stream whose program reads only members of its elements, one selector per
        // member: the scanner copies each object element with those members alone. Only for the
        // first stream of a path (the one the scanner's selectors pick for); any other stream
        // of the same path takes its elements whole. Selectors only save work: they are left out
        // where they would not fit among the scanner's paths.
        let mut selectors: Vec<Path> = Vec::new();
        for (i, (stream, path)) in plan.streams.iter().zip(&stream_paths).enumerate() {
            if stream_paths.iter().position(|other| other == path) != Some(i) {
                continue;
            }
            for key in members_read(&stream.apply).unwrap_or_default() {
                let mut segments = path.segments.clone();
                segments.push(Segment { key, index: None, names: Names::Key });
                selectors.push(Path { segments });
            }
        }
        if plan.paths.len() + stream_paths.len() + selectors.len() > MAX_PATHS {
            selectors.clear();
        }
        plan.paths.extend(stream_paths);
        plan.paths.extend(selectors);
        if too_many_or_too_deep(&plan.paths) {
            // More paths than the scanner's masks hold, or deeper than the sparse copy's writing
            // recurses: the document is captured whole.
            return Plan {
                program: program.clone(),
                paths: alloc::vec![Path { segments: Vec::new() }],
                probes: 0,
                streams: Vec::new(),
                root: plan.root,
            };
        }
        plan
    }

    /// The plans of the documents `$name` holds for each of `names` (several upstreams'), in
    /// order: each rewrites the program the one before it left, so the last one's program is
    /// the one to run on them all ([`Shaper::running`]).
    pub fn for_variables<'n>(program: &Expr, names: impl Iterator<Item = &'n str>) -> Vec<Plan> {
        let mut plans: Vec<Plan> = Vec::new();
        for name in names {
            let next = Plan::for_variable(plans.last().map_or(program, Plan::program), name);
            plans.push(next);
        }
        plans
    }

    /// Binds what a reader of this variable's plan finished with (the sparse copy, then each
    /// stream's outputs: [`Shaper::finish`]) to `$name` and to the streams' variables.
    pub fn bind<'a>(&'a self, name: &'a str, parts: &'a [Vec<u8>], into: &mut Vec<(&'a str, &'a [u8])>) {
        let mut parts = parts.iter().map(Vec::as_slice);
        into.push((name, parts.next().unwrap_or(b"null")));
        into.extend(self.streams.iter().map(|stream| stream.name.as_str()).zip(parts));
    }

    /// The program, its streamed iterations replaced by their variables.
    pub fn program(&self) -> &Expr {
        &self.program
    }

    /// What the scanner follows.
    pub fn paths(&self) -> Vec<&Path> {
        self.paths.iter().collect()
    }

    /// Notes that the program reads the value at `segments` (whole, or only its type for a probe).
    fn need(&mut self, segments: Vec<Segment>, probe: bool) {
        match self.paths.iter().position(|path| path.segments == segments) {
            Some(i) if !probe => self.probes &= !(1 << i),
            Some(_) => {}
            None => {
                if probe && self.paths.len() < 64 {
                    self.probes |= 1 << self.paths.len();
                }
                self.paths.push(Path { segments });
            }
        }
    }

    /// Walks `expr`, whose input is the value at `at` (`None`: no value of this document, what
    /// another part of the program made), noting what it reads; `sure` when it is evaluated
    /// whatever the document holds (not behind a `select`, `//`, `and` or `or`), the only place
    /// where an iteration may be streamed: a stream runs while the document is read, before
    /// anything decides whether jq would have run it at all.
    fn walk(&mut self, expr: &Expr, at: Option<&[Segment]>, sure: bool) -> Expr {
        if let Some((base, steps)) = chain(expr) {
            if let Some(path) = self.resolve(base, at, steps) {
                self.need(path, false);
            }
            return expr.clone();
        }
        let walk = |plan: &mut Plan, inner: &Expr, sure: bool| Box::new(plan.walk(inner, at, sure));
        match expr {
            Expr::Pipe(left, right) => {
                if let (Expr::Each(of, _), true) = (&**left, sure && self.streamable(right)) {
                    // From `.` (below `at`), or from this plan's variable, its base made `.`.
                    let iterate = match (chain(of), at) {
                        (Some((Expr::Identity, _)), Some(at)) => Some(Expr::Pipe(Box::new(probe_chain(at)), left.clone())),
                        (Some((Expr::Variable(name), _)), _) if self.root.as_ref() == Some(name) => Some(rebased(left)),
                        _ => None,
                    };
                    if let Some(iterate) = iterate {
                        return Expr::Each(Box::new(self.stream(iterate, right)), false);
                    }
                }
                if let Some((base, steps)) = chain(left) {
                    let inner = self.resolve(base, at, steps);
                    if let Some(inner) = &inner {
                        self.need(inner.clone(), true);
                    }
                    return Expr::Pipe(left.clone(), Box::new(self.walk(right, inner.as_deref(), self.sure_after(left, sure))));
                }
                if let Expr::Select(condition) = &**left {
                    return Expr::Pipe(Box::new(Expr::Select(walk(self, condition, sure))), walk(self, right, false));
                }
                // The right side's input is what the left side makes, no path of the document; it
                // may still read a variable's.
                Expr::Pipe(walk(self, left, sure), Box::new(self.walk(right, None, self.sure_after(left, sure))))
            }
            Expr::Map(apply) if sure && at.is_some() && self.streamable(apply) => {
                // `map` of what it cannot iterate fails as `map`, whatever the stream does.
                let iterate = Expr::Pipe(Box::new(probe_chain(at.unwrap_or(&[]))), Box::new(Expr::Map(Box::new(Expr::Identity))));
                self.stream(iterate, apply)
            }
            Expr::Field(of, key, optional) => Expr::Field(walk(self, of, sure), key.clone(), *optional),
            Expr::Index(of, index, optional) => Expr::Index(walk(self, of, sure), *index, *optional),
            Expr::Each(of, optional) => Expr::Each(walk(self, of, sure), *optional),
            Expr::Array(Some(inner)) => match self.walk(inner, at, sure) {
                // `[P[] | F]` is the stream's array itself: its outputs, never split into members.
                Expr::Each(of, false) if matches!(&*of, Expr::Variable(name) if name.starts_with('#')) => *of,
                inner => Expr::Array(Some(Box::new(inner))),
            },
            Expr::Object(entries) => {
                // jq builds an object once per combination of its entries' outputs: an entry
                // after one that may yield nothing may never be evaluated.
                let mut sure = sure;
                let mut walked = Vec::new();
                for (key, value) in entries {
                    walked.push((key.clone(), self.walk(value, at, sure)));
                    sure &= yields_one(value);
                }
                Expr::Object(walked)
            }
            Expr::Comma(a, b) => Expr::Comma(walk(self, a, sure), walk(self, b, sure)),
            // The right side is evaluated first, the left once per output of it.
            Expr::Equals(a, b, equal) => {
                let b_walked = walk(self, b, sure);
                Expr::Equals(walk(self, a, sure && yields_one(b)), b_walked, *equal)
            }
            Expr::Alternative(a, b) => Expr::Alternative(walk(self, a, sure), walk(self, b, false)),
            Expr::Or(a, b) => Expr::Or(walk(self, a, sure), walk(self, b, false)),
            Expr::And(a, b) => Expr::And(walk(self, a, sure), walk(self, b, false)),
            Expr::Literal(_) | Expr::Array(None) => expr.clone(),
            // What needs its input whole: `select` passes it on, an unsure `map` reads all of it
            // (each of its elements the input of what it maps), and so do `length`, `keys`,
            // `has`, `type` and `not`.
            _ => {
                if let Some(at) = at {
                    self.need(at.to_vec(), false);
                }
                match expr {
                    Expr::Select(condition) => Expr::Select(Box::new(self.walk(condition, at, false))),
                    Expr::Map(apply) => Expr::Map(Box::new(self.walk(apply, None, false))),
                    _ => expr.clone(),
                }
            }
        }
    }

    /// The document path a chain from `base` reads: from `.`, below `at`; from the variable this
    /// plan is for, from its root; `None` for any other.
    fn resolve(&self, base: &Expr, at: Option<&[Segment]>, steps: Vec<Segment>) -> Option<Vec<Segment>> {
        match base {
            Expr::Identity => at.map(|at| joined(at, steps)),
            Expr::Variable(name) if self.root.as_deref() == Some(name.as_str()) => Some(steps),
            _ => None,
        }
    }

    /// Whether the right side of a pipe is evaluated whatever the document holds, after `left`.
    /// In `.`'s plan a stream there is on a path below `left`'s, which meets nothing when
    /// `left` yields nothing; in a variable's plan it may be on any path of the variable's
    /// (`$a.s.x? | [$a.items[] | .id]`), and is planned only when `left` yields one value.
    fn sure_after(&self, left: &Expr, sure: bool) -> bool {
        sure && (self.root.is_none() || yields_one(left))
    }

    /// Whether each element of an iteration may go through `apply` as the document streams in:
    /// always for `.`'s; for a variable's, when `apply` reads no variable (the others' documents
    /// are not in yet).
    fn streamable(&self, apply: &Expr) -> bool {
        self.root.is_none() || super::unknown_variable(apply, &[]).is_none()
    }

    /// A stream of the iteration `iterate` (from the root), each element through `apply`: the
    /// variable that will hold the outputs, as an array.
    fn stream(&mut self, iterate: Expr, apply: &Expr) -> Expr {
        let k = self.streams.len();
        // `#k`, or `#name#k` in a variable's plan: the plans of several share one program.
        let mut name = String::from("#");
        if let Some(root) = &self.root {
            name.push_str(root);
            name.push_str("#");
        }
        crate::text::push_u64(&mut name, k as u64);
        // Counted among the paths before them; `planned` moves each past the captures once known.
        self.streams.push(Stream { path: k, iterate, apply: apply.clone(), name: name.clone() });
        Expr::Variable(name)
    }
}

/// The keys of the members of its input that `apply` reads, when it reads nothing else of it:
/// every path its plan follows starts with a key (a path from the input itself, `.`, `length`
/// or `keys` of it, is the input whole). `None` when it reads more, or nothing.
fn members_read(apply: &Expr) -> Option<Vec<String>> {
    let mut plan = Plan { program: Expr::Identity, paths: Vec::new(), probes: 0, streams: Vec::new(), root: None };
    // Not sure: nothing is streamed inside an element.
    plan.walk(apply, Some(&[]), false);
    let mut keys: Vec<String> = Vec::new();
    for path in &plan.paths {
        let first = path.segments.first().filter(|segment| segment.names == Names::Key)?;
        if !keys.contains(&first.key) {
            keys.push(first.key.clone());
        }
    }
    (!keys.is_empty()).then_some(keys)
}

/// The path an iteration streams: its steps, then every member.
fn stream_path(iterate: &Expr) -> Path {
    let mut segments = Vec::new();
    collect_steps(iterate, &mut segments);
    segments.push(Segment { key: String::new(), index: None, names: Names::Every });
    Path { segments }
}

/// The steps of a chain of pipes and steps that ends in `[]` (what `Plan::walk` builds).
fn collect_steps(expr: &Expr, into: &mut Vec<Segment>) {
    match expr {
        Expr::Pipe(left, right) => {
            collect_steps(left, into);
            collect_steps(right, into);
        }
        Expr::Each(of, _) => collect_steps(of, into),
        other => into.extend(static_steps(other).unwrap_or_default()),
    }
}

/// The base and steps of `expr` when it is a path by keys and small indexes from its input or
/// from a variable (`.a.b[0]`, `$orders.items`).
fn chain(expr: &Expr) -> Option<(&Expr, Vec<Segment>)> {
    let (of, segment) = match expr {
        Expr::Identity | Expr::Variable(_) => return Some((expr, Vec::new())),
        Expr::Field(of, key, _) => (of, Segment { key: key.clone(), index: None, names: Names::Key }),
        Expr::Index(of, index @ 0..MAX_SPARSE_INDEX, _) => {
            (of, Segment { key: String::new(), index: Some(*index as u32), names: Names::Index })
        }
        _ => return None,
    };
    let (base, mut steps) = chain(of)?;
    steps.push(segment);
    Some((base, steps))
}

/// The steps of `expr` when it is a path from its input by keys and small indexes (`.a.b[0]`).
fn static_steps(expr: &Expr) -> Option<Vec<Segment>> {
    chain(expr).filter(|(base, _)| matches!(base, Expr::Identity)).map(|(_, steps)| steps)
}

fn joined(at: &[Segment], steps: Vec<Segment>) -> Vec<Segment> {
    let mut joined = at.to_vec();
    joined.extend(steps);
    joined
}

/// The path `at` as steps that fail silently: the program meets that path's errors itself, so
/// an iteration below it must meet only its own.
fn probe_chain(at: &[Segment]) -> Expr {
    let mut expr = Expr::Identity;
    for segment in at {
        expr = match segment.index {
            Some(index) => Expr::Index(Box::new(expr), i64::from(index), true),
            None => Expr::Field(Box::new(expr), segment.key.clone(), true),
        };
    }
    expr
}

/// A chain from a variable (`$orders.items[]`) as the same steps from `.`: the iteration as its
/// document's plan runs it.
fn rebased(expr: &Expr) -> Expr {
    match expr {
        Expr::Field(of, key, optional) => Expr::Field(Box::new(rebased(of)), key.clone(), *optional),
        Expr::Index(of, index, optional) => Expr::Index(Box::new(rebased(of)), *index, *optional),
        Expr::Each(of, optional) => Expr::Each(Box::new(rebased(of)), *optional),
        _ => Expr::Identity,
    }
}

/// How the memory under an evaluation is handed back after each streamed element: the host's
/// bump heap takes its top back to a mark; elsewhere (the host tests) there is nothing to do.
#[derive(Clone, Copy)]
pub struct Scratch {
    pub mark: fn() -> usize,
    /// Forgets every block above the mark. Called only when nothing allocated since is alive.
    pub rewind: fn(usize),
}

/// Shapes a document as it streams in: the scanner following a plan's paths, each stream's
/// elements run through their program as they complete.
pub struct Shaper<'p> {
    plan: &'p Plan,
    /// What runs after the scan: the plan's program, or the one several plans rewrote.
    program: &'p Expr,
    /// The scanner under the document's limit.
    projection: Projection<'p>,
    variables: &'p Variables<'p>,
    /// Each stream's outputs so far, as an array still open: `[a,b`.
    outputs: Vec<Vec<u8>>,
    scratch: Option<Scratch>,
    /// Each stream's program answered without the evaluator where it can be ([`direct`]), and
    /// the room its answers are written in: made once, before the first chunk (made for each
    /// chunk, they stayed above it and kept the heap from taking the chunk back: 64 KiB each; the
    /// room, like the outputs, still keeps one chunk each time it grows, a few times a document).
    directs: Vec<Option<Direct<'p>>>,
    answer: Vec<u8>,
}

impl<'p> Shaper<'p> {
    /// `paths` are `plan.paths()`; the document may have at most `limit` bytes.
    pub fn new(plan: &'p Plan, paths: &'p [&'p Path], variables: &'p Variables<'p>, limit: u64, scratch: Option<Scratch>) -> Shaper<'p> {
        Shaper {
            plan,
            program: &plan.program,
            projection: Projection::following(paths, plan.probes, limit),
            variables,
            outputs: core::iter::repeat_with(|| Vec::from(&b"["[..])).take(plan.streams.len()).collect(),
            scratch,
            directs: plan.streams.iter().map(|stream| direct(&stream.apply)).collect(),
            answer: Vec::with_capacity(256),
        }
    }

    /// The same, running `program` after the scan: the program with every upstream's streams
    /// replaced (several upstreams, [`Plan::for_variable`]).
    pub fn running(mut self, program: &'p Expr) -> Shaper<'p> {
        self.program = program;
        self
    }

    /// Runs each stream's completed elements through its program. An object's members are kept
    /// until its end instead (`finish`): a repeated key makes an earlier member's value another's.
    fn run_streams(&mut self, at_end: bool) -> Result<(), RelayError> {
        for ((stream, outputs), direct) in self.plan.streams.iter().zip(self.outputs.iter_mut()).zip(&self.directs) {
            let scanner = self.projection.scanner();
            if scanner.restarted(stream.path) {
                outputs.truncate(1);
            }
            let steps = self.plan.paths.get(stream.path).map_or(0, |path| path.segments.len().saturating_sub(1));
            if scanner.met(stream.path).get(steps) == Some(&b'{') {
                if at_end {
                    let apply = Expr::Pipe(Box::new(Expr::Each(Box::new(Expr::Identity), false)), Box::new(stream.apply.clone()));
                    let variables = self.variables;
                    scanner.take_elements(stream.path, |members, _| {
                        let mut object = Vec::from(&b"{"[..]);
                        object.extend_from_slice(members);
                        object.push(b'}');
                        for value in eval(&apply, Value::Found(&object), variables).map_err(shape_error)? {
                            append(outputs, value.text())?;
                        }
                        Ok(())
                    })?;
                }
                continue;
            }
            let (variables, scratch, answer) = (self.variables, self.scratch, &mut self.answer);
            self.projection.scanner().take_elements(stream.path, |list, ends| {
                let mut start = 0;
                for &end in ends {
                    // After the comma that separates it from the one before.
                    let element = list.get(start..end).unwrap_or(&[]);
                    let element = element.strip_prefix(b",").unwrap_or(element);
                    start = end;
                    let mark = scratch.map(|scratch| (scratch.mark)());
                    let direct = direct.as_ref().filter(|_| element.first() == Some(&b'{'));
                    match direct.and_then(|direct| direct.answer(element, answer)) {
                        Some(true) => append(outputs, answer)?,
                        Some(false) => {}
                        None => {
                            for value in eval(&stream.apply, Value::Found(element), variables).map_err(shape_error)? {
                                append(outputs, value.text())?;
                            }
                        }
                    }
                    // The answer's blocks are all dead now (a comparison's decoding, the
                    // evaluation's); the outputs and the answer's room may have moved above the
                    // mark as they grew, and then stay.
                    let below = |list: &Vec<u8>, mark| list.as_ptr() as usize + list.capacity() <= mark;
                    if let (Some(scratch), Some(mark)) = (scratch, mark) {
                        if below(outputs, mark) && below(answer, mark) {
                            (scratch.rewind)(mark);
                        }
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Ends the document and runs the program: its outputs, in jq's order.
    pub fn finish(mut self) -> Result<Vec<Vec<u8>>, RelayError> {
        self.projection.scanner().end().map_err(RelayError::UpstreamInvalidJson)?;
        self.run_streams(true)?;
        let plan = self.plan;
        let scanner = &*self.projection.scanner();
        let captured = plan.streams.first().map_or(plan.paths.len(), |stream| stream.path);
        let mut entries: Vec<Entry> = plan
            .paths
            .iter()
            .take(captured)
            .enumerate()
            .map(|(i, path)| Entry { segments: &path.segments, met: scanner.met(i), found: scanner.found(i) })
            .collect();
        let document = sparse_copy(&entries);
        // The iterations' own errors, met on a copy where each iterated value is as typed.
        for stream in &plan.streams {
            let segments = plan.paths.get(stream.path).map_or(&[][..], |path| &path.segments);
            let steps = segments.len().saturating_sub(1);
            let met = scanner.met(stream.path);
            entries.clear();
            entries.push(Entry { segments: segments.get(..steps).unwrap_or(segments), met: met.get(..=steps).unwrap_or(met), found: None });
            eval(&stream.iterate, Value::Found(&sparse_copy(&entries)), &[]).map_err(shape_error)?;
        }
        for outputs in &mut self.outputs {
            outputs.push(b']');
        }
        if plan.root.is_some() {
            // A variable's document: the sparse copy, then each stream's outputs.
            let mut parts = alloc::vec![document.into_owned()];
            parts.append(&mut self.outputs);
            return Ok(parts);
        }
        // A program that is one stream's array (`[.[] | ...]`) answers with it, uncopied.
        if let Expr::Variable(name) = self.program {
            if let Some(k) = plan.streams.iter().position(|stream| stream.name == *name) {
                return Ok(alloc::vec![self.outputs.get_mut(k).map(core::mem::take).unwrap_or_default()]);
            }
        }
        let mut variables: Vec<(&str, &[u8])> = self.variables.to_vec();
        variables.extend(plan.streams.iter().zip(&self.outputs).map(|(stream, array)| (stream.name.as_str(), array.as_slice())));
        let outputs = eval(self.program, Value::Found(&document), &variables).map_err(shape_error)?;
        // What the program built is moved out; what it found is copied.
        Ok(outputs
            .into_iter()
            .map(|value| match value {
                Value::Built(text) => text,
                Value::Found(text) => text.trim_ascii().to_vec(),
            })
            .collect())
    }
}

impl Sink for Shaper<'_> {
    fn push(&mut self, chunk: &[u8]) -> Result<(), RelayError> {
        self.projection.push(chunk)?;
        self.run_streams(false)
    }
}

fn shape_error(error: EvalError) -> RelayError {
    RelayError::UpstreamShape { problem: error.message() }
}

/// Appends a value to an open array (`[` and the values so far), refusing what the memory cannot
/// hold.
fn append(list: &mut Vec<u8>, value: &[u8]) -> Result<(), RelayError> {
    let needed = value.len() + 1;
    if list.capacity() - list.len() < needed {
        // Eight times what it holds when it must move: on the bump heap each move leaves the old
        // block behind, written and so resident, and room reserved but not yet written costs no
        // memory (pages are the host's until touched). Doubling left as much behind as the answer
        // (17 MB of `[.[] | {id, name}]`), this a seventh. Where the memory cannot hold that much, it
        // grows as a vector does (doubling). Saturating: past 613 MB a 32-bit `len * 7` wraps to
        // a small request that may succeed without the room.
        if list.try_reserve(list.len().saturating_mul(7).saturating_add(needed)).is_err() {
            list.try_reserve(needed).map_err(|_| RelayError::AnswerOverMemory)?;
        }
    }
    push_item(list, value);
    Ok(())
}

/// What the scan learnt about one path.
#[derive(Clone, Copy)]
struct Entry<'s> {
    segments: &'s [Segment],
    met: &'s [u8],
    found: Option<&'s [u8]>,
}

/// The sparse copy of the document `entries` tell of; `null` where they met nothing (a program
/// that reads nothing of it). A document read whole is its own sparse copy: borrowed where the
/// scanner holds it, not copied again (`length` of a 114 MB document held it three times).
fn sparse_copy<'s>(entries: &[Entry<'s>]) -> Cow<'s, [u8]> {
    if let Some(whole) = entries.iter().find_map(|entry| entry.found.filter(|_| entry.segments.is_empty())) {
        return Cow::Borrowed(whole);
    }
    let mut copy = Vec::new();
    write_sparse(&mut copy, entries, 0);
    if copy.is_empty() {
        copy.extend_from_slice(b"null");
    }
    Cow::Owned(copy)
}

/// The deepest path a plan follows: the sparse copy is written recursing once a level (a chain of
/// pipes 1,984 steps deep overflowed the stack).
const MAX_PATH_DEPTH: usize = 64;

/// Whether the scanner cannot follow `paths`, or the sparse copy cannot be written from them.
fn too_many_or_too_deep(paths: &[Path]) -> bool {
    paths.len() > MAX_PATHS || paths.iter().any(|path| path.segments.len() > MAX_PATH_DEPTH)
}

/// Writes the value at `depth` of `entries` (every one of which reached it) as the program will
/// read it: a captured value as found, a container with what the entries read inside it, any
/// other value as one of its type.
fn write_sparse(out: &mut Vec<u8>, entries: &[Entry], depth: usize) {
    if let Some(found) = entries.iter().find_map(|entry| entry.found.filter(|_| entry.segments.len() == depth)) {
        out.extend_from_slice(found);
        return;
    }
    let Some(&first) = entries.iter().find_map(|entry| entry.met.get(depth)) else { return };
    let object = match first {
        b'{' => true,
        b'[' => false,
        b'"' => return out.extend_from_slice(b"\"\""),
        b't' => return out.extend_from_slice(b"true"),
        b'f' => return out.extend_from_slice(b"false"),
        b'n' => return out.extend_from_slice(b"null"),
        _ => return out.push(b'0'),
    };
    // The entries that reached a member of this container, each by its segment here.
    let inside: Vec<(&Segment, Entry)> =
        entries.iter().filter(|entry| entry.met.len() > depth + 1).filter_map(|entry| Some((entry.segments.get(depth)?, *entry))).collect();
    let group = |same: &dyn Fn(&Segment) -> bool| -> Vec<Entry> {
        inside.iter().filter(|(segment, _)| same(segment)).map(|(_, entry)| *entry).collect()
    };
    out.push(first);
    if object {
        let mut written: Vec<&str> = Vec::new();
        for (segment, _) in &inside {
            let key = segment.key.as_str();
            if written.contains(&key) {
                continue;
            }
            if !written.is_empty() {
                out.push(b',');
            }
            write_string(out, key.as_bytes());
            out.push(b':');
            write_sparse(out, &group(&|other| other.key == key), depth + 1);
            written.push(key);
        }
        out.push(b'}');
    } else {
        // The indexes read, in order; each element before one is written `0` (never read).
        let mut indexes: Vec<u32> = Vec::new();
        for index in inside.iter().filter_map(|(segment, _)| segment.index) {
            if let Err(at) = indexes.binary_search(&index) {
                indexes.insert(at, index);
            }
        }
        let mut next = 0;
        for index in indexes {
            while next < index {
                out.extend_from_slice(b"0,");
                next += 1;
            }
            write_sparse(out, &group(&|other| other.index == Some(index)), depth + 1);
            out.push(b',');
            next += 1;
        }
        if out.last() == Some(&b',') {
            out.pop();
        }
        out.push(b']');
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    /// The program's outputs on `document` fed in chunks of `size`, streamed.
    fn streamed(program: &str, document: &str, size: usize) -> Result<Vec<String>, RelayError> {
        let plan = Plan::new(&parse(program).unwrap());
        let paths = plan.paths();
        let mut shaper = Shaper::new(&plan, &paths, &[], u64::MAX, None);
        for chunk in document.as_bytes().chunks(size.max(1)) {
            shaper.push(chunk)?;
        }
        Ok(shaper.finish()?.into_iter().map(|v| String::from_utf8(v).unwrap()).collect())
    }

    /// The whole-document evaluator's outputs.
    fn whole(program: &str, document: &str) -> Result<Vec<String>, RelayError> {
        let expr = parse(program).unwrap();
        let outputs = eval(&expr, Value::Found(document.as_bytes()), &[]).map_err(shape_error)?;
        Ok(outputs.iter().map(|v| String::from_utf8(v.text().to_vec()).unwrap()).collect())
    }

    fn same_as_whole(program: &str, document: &str) {
        let expected = whole(program, document);
        for size in [1, 2, 3, 7, document.len()] {
            assert_eq!(streamed(program, document, size), expected, "{program} on {document} in chunks of {size}");
        }
    }

    #[test]
    fn elements_cut_down_to_the_members_read_answer_as_whole_ones() {
        let documents = [
            r#"[{"id":1,"name":"a","kind":"x","big":{"id":9,"n":[1,2]}},{"name":"b","id":2},{"x":1}]"#,
            // A repeated key (jq reads the last), escapes in keys, nested values read whole.
            r#"[{"id":1,"id":2,"\u006eame":"c","big":{"id":{"deep":[{}]}}}, {"na\"me":1,"name":null}]"#,
            // Elements that are no objects: copied whole, so the program meets their type.
            r#"[{"id":1},2,"s",[{"id":3}],null,{"id":{"id":4}}]"#,
            r#"{"a":{"id":1,"name":"x"},"b":{"name":"y"}}"#,
            r#"[]"#,
            r#"[ { "id" : 1 , "name" : "a b" } , { } ]"#,
        ];
        let programs = [
            "[.[] | {id, name}]",
            "[.[]? | .id?]",
            "[.[] | select(.kind == \"x\") | .id]",
            "[.[] | .big.id?]",
            "map(.name?)",
            "[.[] | {n: .name?, i: (.id? // 0)}]",
            "[.[] | .id?, .name?]",
        ];
        for document in documents {
            for program in programs {
                same_as_whole(program, document);
            }
        }
        // Streams of one path: selectors for the first alone (a review found a `length` taken
        // of the copy made for another stream, and a key copied twice).
        for (program, document) in [
            ("{n: [.[] | length], ids: [.[] | .id]}", r#"[{"id":1,"x":2}]"#),
            ("{ids: [.[] | .id], n: [.[] | length], k: [.[] | keys]}", r#"[{"id":1,"x":2}]"#),
            ("{a: [.[] | .id], b: [.[] | .id]}", r#"[{"id":true},{"id":null,"x":1}]"#),
            ("{ids: [.items[] | .id], rows: [.items[] | {id, name}]}", r#"{"items":[{"id":1,"name":"a","z":0}]}"#),
        ] {
            same_as_whole(program, document);
        }
        // More members than the scanner's paths hold: streamed still, elements whole.
        let keys: Vec<String> = (0..64).map(|i| format!("k{i}")).collect();
        let program = format!("[.[] | {{{}}}]", keys.join(", "));
        let plan = Plan::new(&parse(&program).unwrap());
        assert_eq!((plan.streams.len(), plan.paths.len()), (1, 1));
        same_as_whole(&program, r#"[{"k0":1,"k63":2,"x":3},{}]"#);
        // A key with an unpaired surrogate escape reads as U+FFFD, in a path as in the program.
        for document in [r#"{"\ud800":1}"#, r#"{"\ud800\ud800":2,"\udc00":3,"\ud800x":4}"#] {
            for program in [r#"."\ud800""#, r#"."\ufffd\ufffd""#, r#"."\ufffdx""#, r#"[.[]?]"#] {
                same_as_whole(program, document);
                same_as_whole(&format!("[.[] | {program}]"), &format!("[{document}]"));
            }
        }
    }

    #[test]
    fn paths_are_captured_and_iterations_streamed() {
        let plan = Plan::new(&parse("{a: .a.b, n: [.items[] | select(.k == 1) | .id], m: (.m | map(.x))}").unwrap());
        assert_eq!(plan.streams.len(), 2);
        // `.a.b`, the probe `.m`, the two streams, then their selectors: the members each
        // element's program reads (`k` and `id`; `x`), and nothing of `select(.k == 1) | .` whole.
        assert_eq!(plan.paths.len(), 7, "{:?}", plan.paths);
        let last_keys: Vec<&str> = plan.paths[4..].iter().map(|path| path.segments.last().unwrap().key.as_str()).collect();
        assert_eq!(last_keys, ["k", "id", "x"]);
        assert_eq!(members_read(&parse("select(.k == 1)").unwrap()), None, "the element whole");
        assert_eq!(members_read(&parse("{a: .a.b, c: (.c | length)}").unwrap()), Some(vec![String::from("a"), String::from("c")]));
        let whole_root = Plan::new(&parse("length").unwrap());
        assert_eq!(whole_root.paths, [Path { segments: Vec::new() }]);
        // A step after an iteration is the pipe's: streamed, the document never kept whole.
        for program in [
            "[.items[].id]",
            "[.items[]?.id?]",
            "[.items[][0]]",
            "[.items[][]]",
            "[.items[].a.b[]]",
            "[.items[].a | .b]",
            ".items | map(.a[].b)",
        ] {
            let plan = Plan::new(&parse(program).unwrap());
            assert_eq!(plan.streams.len(), 1, "{program}");
            assert!(plan.paths.iter().all(|path| path.segments.first().is_some_and(|s| s.key == "items")), "{program}: {:?}", plan.paths);
        }
    }

    #[test]
    fn streamed_answers_are_the_whole_evaluators() {
        let document =
            r#"{"a":{"b":1.0e+2,"c":[1,2]},"items":[{"id":1,"k":1},{"id":"x","k":2},{"id":3,"k":1}],"m":[{"x":true},{"y":1}],"s":"t"}"#;
        for program in [
            ".",
            ".a.b",
            "{a: .a.b, n: [.items[] | select(.k == 1) | .id], m: (.m | map(.x))}",
            "[.items[] | .id]",
            ".a | {b, c: .c[1]}",
            ".items | map(.id)",
            "[.items[].id]",
            ".a.c[5]",
            ".a.c[-1]",
            ".missing.deeper",
            ".items | length",
            ".s.x",
            ".s.x?",
            "[.s[]?]",
            "[.s[]]",
            "[.missing[]]",
            ".a.b.c",
            "[.a.c[] | . == 2]",
            "{x: (.nope // .a.b), y: (.a.c | length)}",
            ".items[0].id, .items[2].k",
            "[.[] | type]",
            "(.a | keys), (.items | length)",
            "[.a.b, .a.c[0]]",
            "select(.s == \"t\") | .a.b",
            ".m[1] | has(\"y\")",
            "[.a[]]",
            // Steps after an iteration, as pipes (the parser's `after_iteration`).
            "[.items[].k]",
            "[.items[]?.id?]",
            "[.items[].id[]?]",
            "[.items[][0]?]",
            "[.items[].id[]]",
            "[.m[][]]",
            "[.items[].k | . == 1]",
            "[.m[].x?]",
            "(.items[].id | type), .s",
            "[.a.c[].x]",
        ] {
            same_as_whole(program, document);
        }
    }

    /// Each variable's document read through its own plan (in chunks of `size`), then the
    /// program on the sparse copies: what the program answers on the whole documents.
    fn variables_as_whole(program: &str, documents: &[(&str, &str)]) {
        let expr = parse(program).unwrap();
        let whole: Vec<(&str, &[u8])> = documents.iter().map(|(name, text)| (*name, text.as_bytes())).collect();
        let expected =
            eval(&expr, Value::Found(b"null"), &whole).map(|values| values.iter().map(|v| v.text().to_vec()).collect::<Vec<_>>());
        for size in [1, 3, 100] {
            let plans = Plan::for_variables(&expr, documents.iter().map(|(name, _)| *name));
            let parts: Result<Vec<Vec<Vec<u8>>>, String> = plans
                .iter()
                .zip(documents)
                .map(|(plan, (_, text))| {
                    let paths = plan.paths();
                    let mut shaper = Shaper::new(plan, &paths, &[], u64::MAX, None);
                    text.as_bytes().chunks(size).try_for_each(|chunk| shaper.push(chunk))?;
                    shaper.finish()
                })
                .collect::<Result<_, RelayError>>()
                .map_err(|error| match error {
                    RelayError::UpstreamShape { problem } => problem,
                    other => other.message(),
                });
            let expected_error = expected.clone().map(|_| ()).map_err(|error| error.message());
            // A stream's error is met while its document streams in.
            let parts = match parts {
                Ok(parts) => parts,
                Err(problem) => {
                    assert_eq!(Err(problem), expected_error, "{program} in chunks of {size}");
                    continue;
                }
            };
            let mut bound: Vec<(&str, &[u8])> = Vec::new();
            for ((name, _), (plan, parts)) in documents.iter().zip(plans.iter().zip(&parts)) {
                plan.bind(name, parts, &mut bound);
            }
            let program = plans.last().map_or(&expr, Plan::program);
            let answered =
                eval(program, Value::Found(b"null"), &bound).map(|values| values.iter().map(|v| v.text().to_vec()).collect::<Vec<_>>());
            assert_eq!(
                answered.map_err(|error| error.message()),
                expected.clone().map_err(|error| error.message()),
                "{program:?} in chunks of {size}, parts {:?}",
                parts.iter().flatten().map(|s| String::from_utf8_lossy(s)).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn a_variables_document_keeps_only_what_the_program_reads() {
        let a = r#"{"name":"p","big":[1,2,3],"items":[{"id":1,"t":2.50},{"id":2}],"n":{"m":[true]}}"#;
        let b = r#"{"items":[{"id":"x"}],"name":5}"#;
        for program in [
            "{name: $a.name, ids: [$a.items[] | .id], n: ($b.items | length)}",
            "$a.n.m[0], $b.name",
            "[$a.items[] | select(.t) | {id}]",
            "$a | .items[1].id",
            "$b.name.x?",
            "$b.name.x",
            "[$a.big[], $b.items[0]]",
            "{a: ($a | keys), b: ($b.items | map(.id))}",
            "($a.missing // $b.items[0].id)",
            "[.[]?, $a.name]",
        ] {
            variables_as_whole(program, &[("a", a), ("b", b)]);
        }
        let plan = Plan::for_variable(&parse("{x: $a.name, y: [$a.items[] | .id]}").unwrap(), "a");
        // `name` captured, `items` streamed, each element cut down to its `id`.
        assert_eq!(plan.paths.len(), 3, "{:?}", plan.paths);
        assert!(plan.paths.iter().all(|path| !path.segments.iter().any(|s| s.key == "big")));
        assert_eq!(plan.streams.iter().map(|stream| stream.name.as_str()).collect::<Vec<_>>(), ["#a#0"]);
        assert_eq!(plan.program(), &rename(parse("{x: $a.name, y: $stream}").unwrap()));
    }

    /// `$stream` renamed to the variable no program can name.
    fn rename(expr: Expr) -> Expr {
        match expr {
            Expr::Object(entries) => Expr::Object(entries.into_iter().map(|(key, value)| (key, rename(value))).collect()),
            Expr::Variable(name) if name == "stream" => Expr::Variable(String::from("#a#0")),
            other => other,
        }
    }

    /// An upstream's iterations stream when what each element goes through reads no variable:
    /// the same answers and errors as on the whole documents, two upstreams' streams apart.
    #[test]
    fn a_variables_iterations_stream() {
        let a = r#"{"name":"p","big":[1,2,3],"items":[{"id":1,"t":2.50},{"id":2},7],"n":{"m":[true]},"s":"x"}"#;
        let b = r#"{"items":[{"id":"x"},{"id":[1]}],"name":5,"o":{"k":{"id":1},"j":{"id":2}}}"#;
        for program in [
            "[$a.items[] | .id?]",
            "[$a.items[] | .id]",
            "{x: [$a.items[]? | {id}], y: [$b.items[] | .id]}",
            "$b.items | map(.id)",
            "[$b.o[] | .id]",
            "[$a.items[] | select(.t) | .id]",
            "[$a.s[]]",
            "[$a.s[]?]",
            "[$a.missing[]]",
            "[$a.missing[]?]",
            "[$a.items[] | $b.name]",
            "[$a.big[] | . == 2]",
            "[$a.items[]?]",
            "{p: [$a.items[] | type], q: [$b.items[] | length]}",
            "[$b.items[].id]",
            "{a: [$a.big[] | . == 1], b: [$b.items[] | .id], c: $a.n.m[0]}",
            "[$a.n[] | .[]]",
            // After a left side that yields nothing, jq never iterates: no stream may run.
            "[$a.s.x? | [$a.items[] | .id]]",
            "[$b.missing[]? | [$a.items[] | .id]]",
            "[$a.s.x? | ($a.items | map(.id))]",
            "[$a.name | [$a.items[] | .id?]]",
        ] {
            variables_as_whole(program, &[("a", a), ("b", b)]);
        }
    }

    #[test]
    fn a_repeated_key_streams_only_its_last_value() {
        same_as_whole("[.a[] | . + 0]".replace(" + 0", "").as_str(), r#"{"a":[1,2],"b":0,"a":[3]}"#);
        same_as_whole("[.a[]]", r#"{"a":[1,2],"a":5}"#);
        same_as_whole("[.a[] | .x]", r#"{"a":{"p":{"x":1}},"a":{"q":{"x":2}}}"#);
        same_as_whole(".a.b", r#"{"a":{"b":1},"a":7}"#);
        // Within a streamed object, a repeated key is one member: the first's place, the last's value.
        same_as_whole("[.[] | type]", r#"{"o":{"b":1},"o":[]}"#);
        same_as_whole("[.x[] | .k?]", r#"{"x":{"a":{"k":1},"b":{"k":2},"a":{"k":3}}}"#);
        same_as_whole("{n: [.x[]], m: [.y[] | length]}", r#"{"x":{"a":1,"a":2},"y":[[1],"ab",{"c":1,"c":2}]}"#);
    }

    #[test]
    fn scalars_at_the_root_and_empty_containers() {
        for document in ["3", "\"s\"", "null", "[]", "{}", "[[]]", "true"] {
            for program in [".", "[.[]?]", ".a?", "[.[] | .x?]", "map(.)", "[.[] | .x]", "{a: .a?}", "[.[0]?]"] {
                same_as_whole(program, document);
            }
        }
    }
}

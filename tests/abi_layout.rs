//! Pins what the hand-written canonical-ABI layer (src/host/abi/) assumes about the WASI 0.2.12 WIT
//! in wit/deps/, so that a WIT update that moves something fails here rather than a request at run
//! time. Generated bindings would follow the WIT by themselves; these readers use fixed numbers:
//!
//! 1. `error-code` case indexes: the `pub const X: ErrorCase = N;` of abi/outgoing.rs, and the
//!    cases inside each `A..=B` range of `map_error_case` (host/outbound.rs), pinned by name.
//! 2. `method` (and `scheme`) case order: `METHODS` in abi/outgoing.rs, which
//!    `IncomingRequest::method` in abi/incoming.rs reads case by case (the HTTP component's
//!    health check takes get = 0 and head = 1), `set_target`'s scheme (HTTP = 0, HTTPS = 1).
//! 3. Return-area offsets and size: the byte/word offsets each reader decodes (table `READERS`),
//!    `error-code`'s layout, `ReturnArea`'s `[u8; N]` (abi/mod.rs) being exactly the largest, and
//!    `fields.from-list`'s entries having the layout of `abi::Header`.
//!
//! It reads the WIT with a small parser for the subset these interfaces use and lays types out
//! with a small calculator following the Component Model's CanonicalABI.md (alignment, size,
//! variant discriminant and payload offset). The `caught_*` tests edit copies of the WIT (and of the
//! Rust) in memory and check that the checks do fail, and say what moved.

use std::collections::HashMap;
use std::path::Path;

// ---------------------------------------------------------------- WIT: tokens and parser

/// The WIT as tokens, without what bears on no layout: comments, annotations (`@since(..)`),
/// versions (`@0.2.12`, with the `.` before a `use`'s `{`) and the `%` of escaped names.
fn tokenize(src: &str) -> Vec<String> {
    let mut text = String::new();
    for line in src.lines() {
        let mut rest = line.split("//").next().unwrap();
        while let Some(at) = rest.find('@') {
            text += &rest[..at];
            let after = &rest[at + 1..];
            let end = match after.starts_with(|c: char| c.is_ascii_digit()) {
                true => after.find(|c: char| !(c.is_ascii_alphanumeric() || ".-+".contains(c))).unwrap_or(after.len()),
                false => after.find(')').map_or(after.len(), |i| i + 1),
            };
            rest = &after[end..];
        }
        text += rest;
        text.push('\n');
    }
    let text = text.replace("->", " → ").replace('%', "");
    let spaced: String = text.chars().map(|c| if "{}()<>,:;=./_".contains(c) { format!(" {c} ") } else { c.to_string() }).collect();
    spaced.split_whitespace().map(String::from).collect()
}

#[derive(Clone, Debug)]
enum Ty {
    Prim(String),
    Str,
    List(Box<Ty>),
    Option(Box<Ty>),
    Result(Option<Box<Ty>>, Option<Box<Ty>>),
    Tuple(Vec<Ty>),
    Handle(bool, String), // own (true) or borrow
    Named(String),
}

type Cases = Vec<(String, Option<Ty>)>;

enum Def {
    Alias(Ty),
    Variant(Cases), // enums too: cases without payloads
    Record(Vec<Ty>),
    Flags(usize),
    Resource,
}

struct Func {
    params: Vec<(String, Ty)>,
    result: Option<Ty>,
}

#[derive(Default)]
struct Interface {
    types: HashMap<String, Def>,
    /// Local name -> (the interface it comes from, its name there).
    uses: HashMap<String, (String, String)>,
    /// `name` for a free function, `resource.name` for a method or a static function.
    funcs: HashMap<String, Func>,
}

struct Parser {
    toks: Vec<String>,
    pos: usize,
}

impl Parser {
    fn new(src: &str) -> Parser {
        Parser { toks: tokenize(src), pos: 0 }
    }
    fn next(&mut self) -> String {
        self.pos += 1;
        self.toks.get(self.pos - 1).cloned().expect("WIT ends early")
    }
    fn eat(&mut self, tok: &str) -> bool {
        let found = self.toks.get(self.pos).is_some_and(|t| t == tok);
        self.pos += usize::from(found);
        found
    }
    fn expect(&mut self, tok: &str) {
        let found = self.next();
        assert_eq!(found, tok, "WIT: expected `{tok}` at token {}", self.pos);
    }
    fn id(&mut self) -> String {
        let id = self.next();
        assert!(id.starts_with(|c: char| c.is_ascii_alphabetic()), "WIT: expected a name, found `{id}` at token {}", self.pos);
        id
    }
    /// Items separated by commas (a trailing one allowed) up to `close`.
    fn list<T>(&mut self, close: &str, mut item: impl FnMut(&mut Self) -> T) -> Vec<T> {
        let mut items = Vec::new();
        while !self.eat(close) {
            items.push(item(self));
            if !self.eat(",") {
                self.expect(close);
                break;
            }
        }
        items
    }

    /// `package ns:name; interface x { .. } world y { .. }` -> ("ns:name/x", interface) pairs.
    fn file(&mut self) -> Vec<(String, Interface)> {
        self.expect("package");
        let namespace = self.id();
        self.expect(":");
        let package = format!("{namespace}:{}", self.id());
        self.expect(";");
        let mut interfaces = Vec::new();
        while self.pos < self.toks.len() {
            let (kind, name) = (self.next(), self.id());
            if kind == "interface" {
                interfaces.push((format!("{package}/{name}"), self.interface(&package)));
                continue;
            }
            assert_eq!(kind, "world", "WIT: unexpected `{kind}` at the top level");
            self.expect("{");
            let mut depth = 1;
            while depth > 0 {
                depth += match self.next().as_str() {
                    "{" => 1,
                    "}" => -1,
                    _ => 0,
                };
            }
        }
        interfaces
    }

    fn interface(&mut self, package: &str) -> Interface {
        let mut it = Interface::default();
        self.expect("{");
        while !self.eat("}") {
            let word = self.id();
            match word.as_str() {
                "use" => {
                    let first = self.id();
                    let from = match self.eat(":") {
                        true => format!("{first}:{}/{}", self.id(), (self.expect("/"), self.id()).1),
                        false => format!("{package}/{first}"),
                    };
                    self.eat(".");
                    self.expect("{");
                    let names = self.list("}", |p| {
                        let name = p.id();
                        (if p.eat("as") { p.id() } else { name.clone() }, name)
                    });
                    it.uses.extend(names.into_iter().map(|(local, name)| (local, (from.clone(), name))));
                    self.expect(";");
                }
                "type" => {
                    let name = self.id();
                    self.expect("=");
                    it.types.insert(name, Def::Alias(self.ty()));
                    self.expect(";");
                }
                "variant" | "enum" | "record" | "flags" => {
                    let name = self.id();
                    self.expect("{");
                    let def = match word.as_str() {
                        "record" => Def::Record(self.list("}", |p| (p.id(), p.expect(":"), p.ty()).2)),
                        "flags" => Def::Flags(self.list("}", |p| p.id()).len()),
                        _ => Def::Variant(self.list("}", |p| (p.id(), p.eat("(").then(|| (p.ty(), p.expect(")")).0)))),
                    };
                    it.types.insert(name, def);
                }
                "resource" => {
                    let name = self.id();
                    it.types.insert(name.clone(), Def::Resource);
                    if !self.eat(";") {
                        self.expect("{");
                        while !self.eat("}") {
                            match self.id().as_str() {
                                "constructor" => drop((self.params(), self.expect(";"))),
                                member => {
                                    let member = format!("{name}.{member}");
                                    self.expect(":");
                                    it.funcs.insert(member, self.func());
                                }
                            }
                        }
                    }
                }
                _ => {
                    self.expect(":");
                    it.funcs.insert(word, self.func());
                }
            }
        }
        it
    }

    fn params(&mut self) -> Vec<(String, Ty)> {
        self.expect("(");
        self.list(")", |p| (p.id(), p.expect(":"), p.ty())).into_iter().map(|(name, (), ty)| (name, ty)).collect()
    }

    fn func(&mut self) -> Func {
        self.eat("static");
        self.expect("func");
        let params = self.params();
        let result = self.eat("→").then(|| self.ty());
        self.expect(";");
        Func { params, result }
    }

    fn ty(&mut self) -> Ty {
        let name = self.id();
        let inner = |p: &mut Self| Box::new((p.expect("<"), p.ty(), p.expect(">")).1);
        match name.as_str() {
            "bool" | "u8" | "u16" | "u32" | "u64" | "s8" | "s16" | "s32" | "s64" | "f32" | "f64" | "char" => Ty::Prim(name.clone()),
            "string" => Ty::Str,
            "list" => Ty::List(inner(self)),
            "option" => Ty::Option(inner(self)),
            "tuple" => Ty::Tuple((self.expect("<"), self.list(">", |p| p.ty())).1),
            "own" | "borrow" => Ty::Handle(name == "own", (self.expect("<"), self.id(), self.expect(">")).1),
            "result" if self.eat("<") => {
                let ok = (!self.eat("_")).then(|| Box::new(self.ty()));
                let err = self.eat(",").then(|| Box::new(self.ty()));
                self.expect(">");
                Ty::Result(ok, err)
            }
            "result" => Ty::Result(None, None),
            _ => Ty::Named(name.clone()),
        }
    }
}

// ---------------------------------------------------------------- canonical ABI layout

struct World(HashMap<String, Interface>);

enum Shape {
    Scalar(usize),
    PtrLen,
    Handle,
    Fields(String, Vec<Ty>),
    Cases(String, Cases),
    Flags(usize),
}

struct VariantLayout {
    disc: usize,
    payload_at: usize,
    max_payload: usize,
    size: usize,
    align: usize,
}

fn align_to(n: usize, align: usize) -> usize {
    n.div_ceil(align) * align
}

impl World {
    /// Parses the files declaring `roots` (package names such as "wasi:http") and, through their
    /// `use`s, every package they import, from `files` (path, text).
    fn load(files: &[(String, String)], roots: &[&str]) -> World {
        let mut world = HashMap::new();
        let mut todo: Vec<String> = roots.iter().map(|r| r.to_string()).collect();
        let mut done = Vec::new();
        while let Some(package) = todo.pop() {
            if done.contains(&package) {
                continue;
            }
            let declares = |text: &str| text.lines().any(|l| l.trim().starts_with(&format!("package {package}@")));
            let (path, text) = files.iter().find(|(_, t)| declares(t)).unwrap_or_else(|| panic!("no file in wit/deps/ declares {package}"));
            let interfaces = Parser::new(text).file();
            assert!(!interfaces.is_empty(), "{path}: no interface parsed");
            for (_, it) in &interfaces {
                todo.extend(it.uses.values().map(|(from, _)| from.split('/').next().unwrap().to_string()));
            }
            world.extend(interfaces);
            done.push(package);
        }
        World(world)
    }

    fn func(&self, iface: &str, name: &str) -> &Func {
        let it = self.0.get(iface).unwrap_or_else(|| panic!("the WIT has no interface {iface}"));
        it.funcs.get(name).unwrap_or_else(|| panic!("{iface} has no function `{name}` any more"))
    }

    /// Follows `use`s to the interface defining `name`: (that interface, its name there, its definition).
    fn resolve(&self, iface: &str, name: &str) -> (String, String, &Def) {
        let it = self.0.get(iface).unwrap_or_else(|| panic!("the WIT has no interface {iface}"));
        if let Some(def) = it.types.get(name) {
            return (iface.to_string(), name.to_string(), def);
        }
        let (from, original) = it.uses.get(name).unwrap_or_else(|| panic!("{iface} has no type `{name}`"));
        self.resolve(from, original)
    }

    /// The type despecialized (CanonicalABI.md, "Despecialization"), aliases and names resolved.
    fn shape(&self, iface: &str, ty: &Ty) -> Shape {
        let case = |name: &str, t: &Option<Box<Ty>>| (name.to_string(), t.as_deref().cloned());
        match ty {
            Ty::Prim(p) => Shape::Scalar(match p.as_str() {
                "bool" | "u8" | "s8" => 1,
                "u16" | "s16" => 2,
                "u32" | "s32" | "f32" | "char" => 4,
                _ => 8,
            }),
            Ty::Str | Ty::List(_) => Shape::PtrLen,
            Ty::Handle(..) => Shape::Handle,
            Ty::Tuple(ts) => Shape::Fields(iface.into(), ts.clone()),
            Ty::Option(t) => Shape::Cases(iface.into(), vec![("none".into(), None), ("some".into(), Some((**t).clone()))]),
            Ty::Result(ok, err) => Shape::Cases(iface.into(), vec![case("ok", ok), case("err", err)]),
            Ty::Named(name) => match self.resolve(iface, name) {
                (at, _, Def::Alias(t)) => self.shape(&at, t),
                (at, _, Def::Variant(cases)) => Shape::Cases(at, cases.clone()),
                (at, _, Def::Record(fields)) => Shape::Fields(at, fields.clone()),
                (_, _, Def::Flags(n)) => Shape::Flags(*n),
                (_, _, Def::Resource) => Shape::Handle,
            },
        }
    }

    /// (size, alignment) in linear memory.
    fn layout(&self, iface: &str, ty: &Ty) -> (usize, usize) {
        match self.shape(iface, ty) {
            Shape::Scalar(n) => (n, n),
            Shape::PtrLen => (8, 4),
            Shape::Handle => (4, 4),
            Shape::Fields(at, fields) => {
                let (mut size, mut align) = (0, 1);
                for field in &fields {
                    let (s, a) = self.layout(&at, field);
                    size = align_to(size, a) + s;
                    align = align.max(a);
                }
                (align_to(size, align), align)
            }
            Shape::Cases(at, cases) => {
                let v = self.variant(&at, &cases);
                (v.size, v.align)
            }
            Shape::Flags(n) => match n {
                0 => (0, 1),
                1..=8 => (1, 1),
                9..=16 => (2, 2),
                _ => (4 * n.div_ceil(32), 4),
            },
        }
    }

    fn variant(&self, iface: &str, cases: &[(String, Option<Ty>)]) -> VariantLayout {
        let disc = match cases.len() {
            0..=256 => 1,
            257..=65536 => 2,
            _ => 4,
        };
        let (mut case_align, mut max_payload) = (1, 0);
        for payload in cases.iter().filter_map(|(_, t)| t.as_ref()) {
            let (s, a) = self.layout(iface, payload);
            case_align = case_align.max(a);
            max_payload = max_payload.max(s);
        }
        let (payload_at, align) = (align_to(disc, case_align), disc.max(case_align));
        VariantLayout { disc, payload_at, max_payload, size: align_to(payload_at + max_payload, align), align }
    }

    fn cases(&self, iface: &str, name: &str) -> Cases {
        match self.shape(iface, &Ty::Named(name.into())) {
            Shape::Cases(_, cases) => cases,
            _ => panic!("{iface}'s `{name}` is no variant any more"),
        }
    }

    /// WIT-like text for what a reader finds: aliases resolved, named types by name.
    fn describe(&self, iface: &str, ty: &Ty) -> String {
        match ty {
            Ty::Prim(p) => p.clone(),
            Ty::Str => "string".into(),
            Ty::List(t) => format!("list<{}>", self.describe(iface, t)),
            Ty::Option(_) => "option".into(),
            Ty::Result(..) => "result".into(),
            Ty::Tuple(ts) => format!("tuple<{}>", ts.iter().map(|t| self.describe(iface, t)).collect::<Vec<_>>().join(", ")),
            Ty::Handle(own, name) => format!("{}<{}>", if *own { "own" } else { "borrow" }, self.resolve(iface, name).1),
            Ty::Named(name) => match self.resolve(iface, name) {
                (at, _, Def::Alias(t)) => self.describe(&at, t),
                (_, original, Def::Resource) => format!("own<{original}>"),
                (_, original, _) => original,
            },
        }
    }

    /// Walks `path` ("some.ok.err") down the case payloads of `ty`: (offset, what is there, its
    /// discriminant's size when it is a variant).
    fn probe(&self, iface: &str, ty: &Ty, path: &str) -> Result<(usize, String, Option<usize>), String> {
        let (mut at, mut ty, mut offset) = (iface.to_string(), ty.clone(), 0);
        for step in path.split('.').filter(|s| !s.is_empty()) {
            let Shape::Cases(case_at, cases) = self.shape(&at, &ty) else {
                return Err(format!("`{}` has no cases, so no `{step}`", self.describe(&at, &ty)));
            };
            let Some((_, Some(payload))) = cases.iter().find(|(name, _)| name == step) else {
                return Err(format!("`{}` has no case `{step}` with a payload", self.describe(&at, &ty)));
            };
            offset += self.variant(&case_at, &cases).payload_at;
            (at, ty) = (case_at, payload.clone());
        }
        let disc = match self.shape(&at, &ty) {
            Shape::Cases(a, cases) => Some(self.variant(&a, &cases).disc),
            _ => None,
        };
        Ok((offset, self.describe(&at, &ty), disc))
    }
}

// ---------------------------------------------------------------- what the Rust side assumes

/// One function whose result a reader decodes from `ReturnArea`. `reads` lists, for each value the
/// reader reads, the case path to it ("" = the result itself, "some.ok.err" = the payload of
/// `some`, then of `ok`, then of `err`), the offset the reader uses and what must be there.
struct Reader {
    wit: &'static str,
    func: &'static str,
    rust: &'static str,
    reads: &'static [(&'static str, usize, &'static str)],
}

#[rustfmt::skip]
const READERS: &[Reader] = &[
    Reader { wit: "wasi:http/types", func: "future-incoming-response.get", rust: "FutureIncomingResponse::get (abi/outgoing.rs): byte(0), byte(8), byte(16), word(24), byte(24)",
        reads: &[("", 0, "option"), ("some", 8, "result"), ("some.ok", 16, "result"), ("some.ok.ok", 24, "own<incoming-response>"), ("some.ok.err", 24, "error-code")] },
    Reader { wit: "wasi:http/outgoing-handler", func: "handle", rust: "abi::send (abi/outgoing.rs): byte(0), word(8), byte(8)",
        reads: &[("", 0, "result"), ("ok", 8, "own<future-incoming-response>"), ("err", 8, "error-code")] },
    Reader { wit: "wasi:http/types", func: "http-error-code", rust: "IoError::http_case (abi/outgoing.rs): byte(0), byte(8)",
        reads: &[("", 0, "option"), ("some", 8, "error-code")] },
    Reader { wit: "wasi:http/types", func: "outgoing-body.finish", rust: "OutgoingBody::finish (abi/mod.rs): byte(0), byte(8)",
        reads: &[("", 0, "result"), ("err", 8, "error-code")] },
    Reader { wit: "wasi:http/types", func: "fields.from-list", rust: "Fields::from_list (abi/mod.rs): handle() = byte(0), word(4)", reads: &[("", 0, "result"), ("ok", 4, "own<fields>")] },
    Reader { wit: "wasi:http/types", func: "incoming-body.stream", rust: "IncomingBody::stream (abi/mod.rs): handle() = byte(0), word(4)", reads: &[("", 0, "result"), ("ok", 4, "own<input-stream>")] },
    Reader { wit: "wasi:http/types", func: "outgoing-body.write", rust: "OutgoingBody::write (abi/mod.rs): handle() = byte(0), word(4)", reads: &[("", 0, "result"), ("ok", 4, "own<output-stream>")] },
    Reader { wit: "wasi:http/types", func: "outgoing-request.body", rust: "OutgoingRequest::body (abi/outgoing.rs): handle() = byte(0), word(4)", reads: &[("", 0, "result"), ("ok", 4, "own<outgoing-body>")] },
    Reader { wit: "wasi:http/types", func: "outgoing-response.body", rust: "OutgoingResponse::body (abi/incoming.rs): handle() = byte(0), word(4)", reads: &[("", 0, "result"), ("ok", 4, "own<outgoing-body>")] },
    Reader { wit: "wasi:http/types", func: "incoming-request.consume", rust: "IncomingRequest::consume (abi/incoming.rs): handle() = byte(0), word(4)", reads: &[("", 0, "result"), ("ok", 4, "own<incoming-body>")] },
    Reader { wit: "wasi:http/types", func: "incoming-response.consume", rust: "IncomingResponse::consume (abi/outgoing.rs): handle() = byte(0), word(4)", reads: &[("", 0, "result"), ("ok", 4, "own<incoming-body>")] },
    Reader { wit: "wasi:http/types", func: "incoming-request.method", rust: "IncomingRequest::method (abi/incoming.rs): byte(0), list::<u8>(4) for other",
        reads: &[("", 0, "method"), ("other", 4, "string")] },
    Reader { wit: "wasi:http/types", func: "fields.entries", rust: "Fields::take_entries (abi/mod.rs): list::<Header>(0), Header = 4 x usize",
        reads: &[("", 0, "list<tuple<string, list<u8>>>")] },
    Reader { wit: "wasi:http/types", func: "incoming-request.path-with-query", rust: "IncomingRequest::path_with_query (abi/incoming.rs): byte(0), list(4)",
        reads: &[("", 0, "option"), ("some", 4, "string")] },
    Reader { wit: "wasi:io/streams", func: "input-stream.read", rust: "InputStream::read (abi/mod.rs): byte(0), take_list(4), stream_result(4)",
        reads: &[("", 0, "result"), ("ok", 4, "list<u8>"), ("err", 4, "stream-error"), ("err.last-operation-failed", 8, "own<error>")] },
    Reader { wit: "wasi:io/streams", func: "output-stream.check-write", rust: "OutputStream::check_write (abi/mod.rs): stream_result(8), u64(8)",
        reads: &[("", 0, "result"), ("ok", 8, "u64"), ("err", 8, "stream-error"), ("err.last-operation-failed", 12, "own<error>")] },
    Reader { wit: "wasi:io/streams", func: "output-stream.write", rust: "OutputStream::write (abi/mod.rs): stream_result(4)",
        reads: &[("", 0, "result"), ("err", 4, "stream-error"), ("err.last-operation-failed", 8, "own<error>")] },
    Reader { wit: "wasi:io/streams", func: "output-stream.flush", rust: "OutputStream::flush (abi/mod.rs): stream_result(4)",
        reads: &[("", 0, "result"), ("err", 4, "stream-error"), ("err.last-operation-failed", 8, "own<error>")] },
    Reader { wit: "wasi:io/poll", func: "poll", rust: "abi::poll (abi/mod.rs): take_list::<u32>(0)", reads: &[("", 0, "list<u32>")] },
    Reader { wit: "wasi:cli/environment", func: "get-environment", rust: "abi::environment (abi/cli.rs): list::<Variable>(0), Variable = 4 x usize",
        reads: &[("", 0, "list<tuple<string, string>>")] },
];

/// The ranges of `map_error_case` (host/outbound.rs) and the cases each is meant to cover.
const RANGES: &[(&str, &str, &[&str])] = &[
    ("CONNECTION_TIMEOUT", "CONNECTION_WRITE_TIMEOUT", &["connection-timeout", "connection-read-timeout", "connection-write-timeout"]),
    (
        "DESTINATION_UNAVAILABLE",
        "DESTINATION_IP_UNROUTABLE",
        &["destination-unavailable", "destination-IP-prohibited", "destination-IP-unroutable"],
    ),
    ("TLS_PROTOCOL_ERROR", "TLS_ALERT_RECEIVED", &["TLS-protocol-error", "TLS-certificate-error", "TLS-alert-received"]),
];

struct Sources {
    wit: Vec<(String, String)>,
    outgoing: String,
    outbound: String,
    abi_mod: String,
}

fn sources() -> Sources {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let mut wit: Vec<(String, String)> = std::fs::read_dir(root.join("wit/deps"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wit"))
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    wit.sort();
    Sources {
        wit,
        outgoing: read("src/host/abi/outgoing.rs"),
        outbound: read("src/host/outbound.rs"),
        abi_mod: read("src/host/abi/mod.rs"),
    }
}

impl Sources {
    fn world(&self) -> World {
        World::load(&self.wit, &["wasi:http", "wasi:io", "wasi:cli"])
    }

    /// A copy with `from` replaced by `to` in the WIT file named `file`.
    fn with_wit_edit(mut self, file: &str, from: &str, to: &str) -> Sources {
        let (_, text) = self.wit.iter_mut().find(|(p, _)| p.ends_with(file)).unwrap();
        edit(text, from, to);
        self
    }
}

/// Replaces `from`, which must occur exactly once (so that a self-test cannot pass by editing nothing).
fn edit(text: &mut String, from: &str, to: &str) {
    assert_eq!(text.matches(from).count(), 1, "a self-test's edit: `{from}` must occur exactly once");
    *text = text.replacen(from, to, 1);
}

/// `DNS_TIMEOUT` -> `dns-timeout` (compared case-insensitively with `DNS-timeout`).
fn kebab(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// The `pub const NAME: ErrorCase = N;` of abi/outgoing.rs.
fn error_constants(outgoing: &str) -> Vec<(String, usize)> {
    let parse = |line: &str| {
        let (name, value) = line.trim().strip_prefix("pub const ")?.split_once(": ErrorCase = ")?;
        Some((name.to_string(), value.trim_end_matches(';').trim().parse::<usize>().ok()?))
    };
    outgoing.lines().filter_map(parse).collect()
}

/// The body of `map_error_case`, and the `abi::A..=abi::B` ranges it matches on.
fn map_error_case(outbound: &str) -> (&str, Vec<(String, String)>) {
    let start = outbound.find("fn map_error_case").expect("host/outbound.rs has no `fn map_error_case`");
    let body = &outbound[start..start + outbound[start..].find("\n}").unwrap_or(outbound.len() - start)];
    let is_path = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let ranges = body
        .match_indices("..=")
        .map(|(i, _)| {
            let left = &body[body[..i].rfind(|c| !is_path(c)).map_or(0, |j| j + 1)..i];
            let right = &body[i + 3..][..body[i + 3..].find(|c| !is_path(c)).unwrap_or(body.len() - i - 3)];
            (left.trim_start_matches("abi::").to_string(), right.trim_start_matches("abi::").to_string())
        })
        .collect();
    (body, ranges)
}

// ---------------------------------------------------------------- the checks (each returns its problems)

fn check_error_cases(world: &World, src: &Sources) -> Vec<String> {
    let cases: Vec<String> = world.cases("wasi:http/types", "error-code").into_iter().map(|(n, _)| n).collect();
    let index_of = |rust: &str| cases.iter().position(|c| c.to_ascii_lowercase() == kebab(rust));
    let constants = error_constants(&src.outgoing);
    let (body, ranges) = map_error_case(&src.outbound);
    let mut problems = Vec::new();
    for used in body.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).filter_map(|w| w.strip_prefix("abi::")) {
        if !constants.iter().any(|(name, _)| name == used) {
            problems
                .push(format!("map_error_case uses abi::{used}, but src/host/abi/outgoing.rs has no `pub const {used}: ErrorCase = N;`"));
        }
    }
    for (name, index) in &constants {
        if cases.get(*index).map(|c| c.to_ascii_lowercase()) != Some(kebab(name)) {
            let now = index_of(name).map_or(format!("`{}` is no case at all", kebab(name)), |i| format!("`{}` is case {i}", cases[i]));
            let there = cases.get(*index).map_or("nothing", String::as_str);
            problems.push(format!(
                "src/host/abi/outgoing.rs has {name} = {index}, but error-code's case {index} is `{there}` in the WIT; {now}"
            ));
        }
    }
    for (lo, hi) in &ranges {
        if !RANGES.iter().any(|(l, h, _)| l == lo && h == hi) {
            problems.push(format!("map_error_case matches {lo}..={hi}: pin the cases it covers in RANGES (tests/abi_layout.rs)"));
        }
    }
    for (lo, hi, pinned) in RANGES {
        let covered = match (index_of(lo), index_of(hi)) {
            (Some(l), Some(h)) if l <= h => cases[l..=h].to_vec(),
            _ => vec![],
        };
        if covered != *pinned {
            problems.push(format!("error-code cases {lo}..={hi} (a range in map_error_case) are now {covered:?}, not {pinned:?}: decide how the relay maps the change"));
        }
    }
    problems
}

fn check_methods(world: &World, src: &Sources) -> Vec<String> {
    let cases = world.cases("wasi:http/types", "method");
    let names: Vec<String> = cases.iter().map(|(n, _)| n.clone()).collect();
    let start = src.outgoing.find("const METHODS: [&str; ").expect("src/host/abi/outgoing.rs has no `const METHODS: [&str; N]`");
    let decl = &src.outgoing[start..start + src.outgoing[start..].find("];").unwrap()];
    let declared: usize = decl["const METHODS: [&str; ".len()..].split(']').next().unwrap().parse().unwrap();
    let methods: Vec<&str> = decl.split('"').skip(1).step_by(2).collect();
    let mut problems = Vec::new();
    if methods.len() != declared || methods.is_empty() {
        problems.push(format!("METHODS declares {declared} entries but {} were read from it", methods.len()));
    }
    for (i, method) in methods.iter().enumerate() {
        if names.get(i).map(|n| n.to_ascii_lowercase()) != Some(method.to_ascii_lowercase()) {
            problems.push(format!(
                "METHODS[{i}] is {method:?} (src/host/abi/outgoing.rs), but method's case {i} is {:?} in the WIT",
                names.get(i)
            ));
        }
    }
    let other_ok = matches!(cases.last(), Some((n, Some(Ty::Str))) if n == "other");
    if cases.len() != methods.len() + 1 || !other_ok {
        problems.push(format!(
            "set_target sends an unknown method as case {} = other(string), but the WIT's method is {names:?}",
            methods.len()
        ));
    }
    if names.first().map(String::as_str) != Some("get") || names.get(1).map(String::as_str) != Some("head") {
        problems.push(format!("IncomingRequest::method (abi/incoming.rs) reads cases 0 and 1 as GET and HEAD, but method is {names:?}"));
    }
    let scheme: Vec<String> = world.cases("wasi:http/types", "scheme").into_iter().map(|(n, _)| n).collect();
    if scheme.first().map(String::as_str) != Some("HTTP") || scheme.get(1).map(String::as_str) != Some("HTTPS") {
        problems.push(format!(
            "OutgoingRequest::set_target sends i32::from(https) as scheme's case (HTTP = 0, HTTPS = 1), but scheme is {scheme:?}"
        ));
    }
    problems
}

/// `#[repr(C, align(A))] struct ReturnArea(MaybeUninit<[u8; N]>)` in abi/mod.rs -> (N, A).
fn return_area(abi_mod: &str) -> (usize, usize) {
    let at = abi_mod.find("struct ReturnArea(").expect("src/host/abi/mod.rs has no `struct ReturnArea(`");
    let number = |text: &str, after: &str| -> usize {
        let start = text.rfind(after).unwrap_or_else(|| panic!("no `{after}` by ReturnArea")) + after.len();
        text[start..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
    };
    let line_end = at + abi_mod[at..].find('\n').unwrap();
    (number(&abi_mod[at..line_end], "[u8; "), number(&abi_mod[..at], "align("))
}

fn check_layouts(world: &World, src: &Sources) -> Vec<String> {
    let mut problems = Vec::new();
    let http = "wasi:http/types";
    let error_code = world.variant(http, &world.cases(http, "error-code"));
    let claimed = (32, 8, 8, 24);
    let found = (error_code.size, error_code.align, error_code.payload_at, error_code.max_payload);
    if found != claimed || error_code.disc != 1 {
        problems.push(format!(
            "error-code is (size, align, payload offset, largest payload) = {found:?} with a {}-byte discriminant; the readers and ReturnArea's comment assume {claimed:?} and 1",
            error_code.disc
        ));
    }
    let (area, area_align) = return_area(&src.abi_mod);
    let mut largest = (0, "");
    for reader in READERS {
        let result = world.func(reader.wit, reader.func).result.as_ref();
        let Some(result) = result else {
            problems.push(format!("{} {} returns nothing now; {} reads a result", reader.wit, reader.func, reader.rust));
            continue;
        };
        let (size, align) = world.layout(reader.wit, result);
        let name = format!("{} `{}`", reader.wit, reader.func);
        if size > area || align > area_align {
            problems
                .push(format!("{name}'s result takes {size} bytes (align {align}): more than ReturnArea's {area} (align {area_align})"));
        }
        largest = largest.max((size, reader.func));
        for &(path, offset, what) in reader.reads {
            match world.probe(reader.wit, result, path) {
                Err(e) => problems.push(format!("{name}, case path {path:?}: {e}; {} relies on it", reader.rust)),
                Ok((at, found, disc)) => {
                    if (at, found.as_str()) != (offset, what) {
                        problems.push(format!(
                            "{name}, case path {path:?}: the WIT puts `{found}` at {at}; {} reads `{what}` at {offset}",
                            reader.rust
                        ));
                    }
                    if let Some(bytes) = disc.filter(|&d| d != 1) {
                        problems.push(format!(
                            "{name}, case path {path:?}: `{found}` has a {bytes}-byte discriminant; {} reads one",
                            reader.rust
                        ));
                    }
                }
            }
        }
    }
    if largest != (area, "future-incoming-response.get") {
        problems.push(format!("the largest result read is {largest:?}; ReturnArea (src/host/abi/mod.rs) is [u8; {area}], sized for future-incoming-response.get"));
    }
    let finish = world.layout(http, world.func(http, "outgoing-body.finish").result.as_ref().unwrap()).0;
    if finish != 40 {
        problems.push(format!("result<_, error-code> takes {finish} bytes; ReturnArea's comment says 40"));
    }
    for line in src.abi_mod.lines().filter(|l| l.contains("debug_assert!(offset")) {
        let bound = line.rsplit(|c: char| !c.is_ascii_digit()).find(|w| !w.is_empty()).unwrap_or("");
        if bound != area.to_string() {
            problems.push(format!("`{}` in src/host/abi/mod.rs does not bound by ReturnArea's {area}", line.trim()));
        }
    }
    // Not a return area, but laid out by hand too: `Header` is 4 x usize, a (ptr, len) pair each.
    let entries = &world.func(http, "fields.from-list").params[0].1;
    if world.describe(http, entries) != "list<tuple<string, list<u8>>>" {
        problems.push(format!(
            "fields.from-list takes `{}`; abi::Header is laid out as tuple<string, list<u8>>",
            world.describe(http, entries)
        ));
    }
    problems
}

fn assert_clean(what: &str, problems: Vec<String>) {
    assert!(problems.is_empty(), "{what}: the hand-written ABI layer no longer matches wit/deps/:\n  - {}", problems.join("\n  - "));
}

#[test]
fn error_code_cases_are_where_the_constants_say() {
    let src = sources();
    assert_clean("error-code", check_error_cases(&src.world(), &src));
}

#[test]
fn method_cases_are_in_the_order_of_methods() {
    let src = sources();
    assert_clean("method", check_methods(&src.world(), &src));
}

#[test]
fn every_reader_finds_its_values_and_the_return_area_fits_the_largest() {
    let src = sources();
    assert_clean("return areas", check_layouts(&src.world(), &src));
}

// ---------------------------------------------------------------- the checks can fail

fn assert_caught(problems: Vec<String>, expected: &str) {
    assert!(problems.iter().any(|p| p.contains(expected)), "expected a problem mentioning {expected:?}, got {problems:#?}");
}

#[test]
fn caught_two_error_cases_swapped() {
    let src = sources().with_wit_edit(
        "http.wit",
        "connection-refused,\n    connection-terminated,",
        "connection-terminated,\n    connection-refused,",
    );
    let problems = check_error_cases(&src.world(), &src);
    assert_caught(problems.clone(), "CONNECTION_REFUSED = 6, but error-code's case 6 is `connection-terminated`");
    assert_caught(problems, "CONNECTION_TERMINATED = 7");
}

#[test]
fn caught_a_case_inserted_into_a_range() {
    let src = sources().with_wit_edit("http.wit", "connection-read-timeout,", "connection-read-timeout,\n    connection-idle-timeout,");
    assert_caught(
        check_error_cases(&src.world(), &src),
        "CONNECTION_TIMEOUT..=CONNECTION_WRITE_TIMEOUT (a range in map_error_case) are now",
    );
}

#[test]
fn caught_a_payload_growing_error_code() {
    let src = sources().with_wit_edit("http.wit", "field-size: option<u32>,", "field-size: option<u64>,");
    let problems = check_layouts(&src.world(), &src);
    assert_caught(problems.clone(), "error-code is (size, align, payload offset, largest payload) = (48, 8, 8, 40)");
    assert_caught(problems, "more than ReturnArea's 56");
}

#[test]
fn caught_a_new_method_and_a_moved_stream_error() {
    let src = sources().with_wit_edit("http.wit", "    patch,\n", "    patch,\n    query,\n");
    assert_caught(check_methods(&src.world(), &src), "set_target sends an unknown method as case 9");
    let src = sources().with_wit_edit(
        "io.wit",
        "check-write: func() -> result<u64, stream-error>;",
        "check-write: func() -> result<u32, stream-error>;",
    );
    assert_caught(check_layouts(&src.world(), &src), "`output-stream.check-write`, case path \"ok\": the WIT puts `u32` at 4");
}

#[test]
fn caught_rust_side_drift() {
    let mut src = sources();
    edit(&mut src.abi_mod, "MaybeUninit<[u8; 56]>", "MaybeUninit<[u8; 48]>");
    edit(&mut src.outgoing, "DNS_ERROR: ErrorCase = 1;", "DNS_ERROR: ErrorCase = 2;");
    src.outbound =
        "fn map_error_case(case: ErrorCase) {\n    match case { abi::DNS_ERROR..=abi::DESTINATION_NOT_FOUND => (), _ => () }\n}\n".into();
    let world = src.world();
    assert_caught(check_layouts(&world, &src), "more than ReturnArea's 48");
    let problems = check_error_cases(&world, &src);
    assert_caught(problems.clone(), "DNS_ERROR = 2, but error-code's case 2 is `destination-not-found`");
    assert_caught(problems, "map_error_case matches DNS_ERROR..=DESTINATION_NOT_FOUND: pin the cases");
}

#[test]
fn calculator_agrees_with_the_canonical_abi_on_small_cases() {
    let src = "package t:t@0.1.0; interface i { enum e { a, b } flags f { x, y } record r { a: u8, b: u64, c: u16 } \
               type big = tuple<u8, string>; v: func() -> result<option<u8>, r>; }";
    let world = World(Parser::new(src).file().into_iter().collect());
    let l = |t: &str| world.layout("t:t/i", &Ty::Named(t.into()));
    assert_eq!((l("e"), l("f"), l("r"), l("big")), ((1, 1), (1, 1), (24, 8), (12, 4)));
    let v = world.func("t:t/i", "v").result.as_ref().unwrap();
    assert_eq!(world.layout("t:t/i", v), (32, 8));
    assert_eq!(world.probe("t:t/i", v, "ok.some").unwrap(), (9, "u8".into(), None));
}

//! A streaming JSON validator that copies out the values found at requested paths.
//!
//! The scanner is a byte-at-a-time pushdown automaton: the whole state lives in [`Scanner`], so a
//! document can be fed in chunks as they arrive from the network and its memory does not grow
//! with the document. Nesting is tracked with one bit per open container on the heap, never with
//! recursion, so no document can exhaust the stack. It checks all of RFC 8259 (grammar, escapes,
//! numbers, UTF-8) and builds no tree: the only structure it follows is the path prefix that can
//! still lead to a requested value, as a bit mask per depth up to the longest path. Each captured
//! value is the exact byte range of the document, so numbers, escapes and whitespace inside
//! objects pass through unchanged. A key that occurs twice in an object yields its last value.

use alloc::vec::Vec;

use crate::path::Path;

/// The most paths one scanner follows: one bit each in a `u64` mask.
pub const MAX_PATHS: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonErrorKind {
    UnexpectedEnd,
    UnexpectedByte,
    InvalidUtf8,
    ControlCharacterInString,
    InvalidEscape,
    InvalidNumber,
    TrailingData,
}

/// Why a document is not JSON, and the byte offset where that became certain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub kind: JsonErrorKind,
    pub offset: u64,
}

impl JsonError {
    pub fn message(&self) -> &'static str {
        match self.kind {
            JsonErrorKind::UnexpectedEnd => "the document ends before its value is complete",
            JsonErrorKind::UnexpectedByte => "unexpected character",
            JsonErrorKind::InvalidUtf8 => "invalid UTF-8",
            JsonErrorKind::ControlCharacterInString => "unescaped control character in a string",
            JsonErrorKind::InvalidEscape => "invalid escape sequence in a string",
            JsonErrorKind::InvalidNumber => "malformed number",
            JsonErrorKind::TrailingData => "data after the end of the JSON value",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Number {
    Minus,
    Zero,
    Integer,
    Dot,
    Fraction,
    Exponent,
    ExponentSign,
    ExponentDigits,
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// A value is due: the root, or an object member's value after `:`.
    Value,
    /// An array element is due, after `,`.
    Element,
    /// After `[`: an element or `]`.
    ArrayStart,
    /// After `{`: a key or `}`.
    ObjectStart,
    /// After `,` in an object: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After a value inside a container: `,` or the closing bracket.
    AfterValue,
    /// After the root value: whitespace only.
    Done,
    String { key: bool },
    Escape { key: bool },
    Unicode { key: bool, digits: u8, unit: u16 },
    /// Inside a multi-byte UTF-8 character: `remaining` bytes to come, the next in `low..=high`.
    Utf8 { key: bool, remaining: u8, low: u8, high: u8 },
    Number(Number),
    Literal { word: &'static [u8], matched: u8 },
}

/// One bit per open container: set for an object, clear for an array.
struct ContainerStack {
    words: Vec<u64>,
    len: usize,
}

impl ContainerStack {
    fn push(&mut self, is_object: bool) {
        let (word, bit) = (self.len / 64, self.len % 64);
        if word == self.words.len() {
            self.words.push(0);
        }
        if is_object {
            self.words[word] |= 1 << bit;
        } else {
            self.words[word] &= !(1 << bit);
        }
        self.len += 1;
    }

    fn top_is_object(&self) -> Option<bool> {
        let top = self.len.checked_sub(1)?;
        Some(self.words[top / 64] & (1 << (top % 64)) != 0)
    }
}

/// Validates a JSON document fed in chunks and captures the values at the given paths.
pub struct Scanner<'p> {
    paths: &'p [&'p Path],
    state: State,
    containers: ContainerStack,
    offset: u64,
    /// `live[d]`: paths whose first `d` segments lead to the value now open at depth `d`.
    live: Vec<u64>,
    /// `reaching[d]`: paths with at least `d` segments; `ending[d]`: paths with exactly `d`.
    reaching: Vec<u64>,
    ending: Vec<u64>,
    /// `next_index[d]`: index of the current element of the array at depth `d`.
    next_index: Vec<u32>,
    /// Paths whose segment still matches the key being read, and how many bytes of it matched.
    key_candidates: u64,
    key_matched: usize,
    high_surrogate: Option<u16>,
    /// Paths whose value is being copied right now.
    capturing: u64,
    captures: Vec<Option<Vec<u8>>>,
}

impl<'p> Scanner<'p> {
    /// A scanner following `paths`; at most [`MAX_PATHS`] of them (the rest are ignored).
    pub fn new(paths: &'p [&'p Path]) -> Scanner<'p> {
        let paths = paths.get(..MAX_PATHS).unwrap_or(paths);
        let deepest = paths.iter().map(|p| p.segments.len()).max().unwrap_or(0);
        let mut reaching = Vec::new();
        let mut ending = Vec::new();
        for depth in 0..=deepest {
            let mut reach = 0u64;
            let mut end = 0u64;
            for (i, path) in paths.iter().enumerate() {
                if path.segments.len() >= depth {
                    reach |= 1 << i;
                }
                if path.segments.len() == depth {
                    end |= 1 << i;
                }
            }
            reaching.push(reach);
            ending.push(end);
        }
        let mut live = Vec::new();
        live.resize(deepest + 1, 0);
        live[0] = reaching[0];
        let mut next_index = Vec::new();
        next_index.resize(deepest, 0);
        let mut captures = Vec::new();
        captures.resize(paths.len(), None);
        Scanner {
            paths,
            state: State::Value,
            containers: ContainerStack { words: Vec::new(), len: 0 },
            offset: 0,
            live,
            reaching,
            ending,
            next_index,
            key_candidates: 0,
            key_matched: 0,
            high_surrogate: None,
            capturing: 0,
            captures,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), JsonError> {
        for &b in chunk {
            if let Err(kind) = self.step(b) {
                return Err(JsonError { kind, offset: self.offset });
            }
            self.offset += 1;
        }
        Ok(())
    }

    /// Ends the document: the value captured for each path, in the order of the paths given to
    /// [`Scanner::new`], `None` where the path matched nothing.
    pub fn finish(mut self) -> Result<Vec<Option<Vec<u8>>>, JsonError> {
        match self.state {
            State::Done => {}
            State::Number(Number::Zero | Number::Integer | Number::Fraction | Number::ExponentDigits)
                if self.containers.len == 0 =>
            {
                self.end_scalar();
            }
            _ => return Err(JsonError { kind: JsonErrorKind::UnexpectedEnd, offset: self.offset }),
        }
        Ok(self.captures)
    }

    fn step(&mut self, b: u8) -> Result<(), JsonErrorKind> {
        match self.state {
            State::Value | State::Element | State::ArrayStart => self.value_start(b),
            State::Number(number) => self.number(number, b),
            _ => {
                self.emit(b);
                self.structural_or_string(b)
            }
        }
    }

    fn value_start(&mut self, b: u8) -> Result<(), JsonErrorKind> {
        if is_whitespace(b) {
            self.emit(b);
            return Ok(());
        }
        if let State::ArrayStart = self.state {
            if b == b']' {
                self.emit(b);
                return self.close(false);
            }
        }
        if let State::Element | State::ArrayStart = self.state {
            self.enter_element();
        }
        self.begin_value();
        self.emit(b);
        self.state = match b {
            b'{' => {
                self.containers.push(true);
                State::ObjectStart
            }
            b'[' => {
                let depth = self.containers.len;
                self.containers.push(false);
                if let Some(index) = self.next_index.get_mut(depth) {
                    *index = 0;
                }
                State::ArrayStart
            }
            b'"' => State::String { key: false },
            b'-' => State::Number(Number::Minus),
            b'0' => State::Number(Number::Zero),
            b'1'..=b'9' => State::Number(Number::Integer),
            b't' => State::Literal { word: b"true", matched: 1 },
            b'f' => State::Literal { word: b"false", matched: 1 },
            b'n' => State::Literal { word: b"null", matched: 1 },
            _ => return Err(JsonErrorKind::UnexpectedByte),
        };
        Ok(())
    }

    fn number(&mut self, number: Number, b: u8) -> Result<(), JsonErrorKind> {
        let next = match (number, b) {
            (Number::Minus, b'0') => Some(Number::Zero),
            (Number::Minus, b'1'..=b'9') => Some(Number::Integer),
            (Number::Integer, b'0'..=b'9') => Some(Number::Integer),
            (Number::Zero | Number::Integer, b'.') => Some(Number::Dot),
            (Number::Dot | Number::Fraction, b'0'..=b'9') => Some(Number::Fraction),
            (Number::Zero | Number::Integer | Number::Fraction, b'e' | b'E') => Some(Number::Exponent),
            (Number::Exponent, b'+' | b'-') => Some(Number::ExponentSign),
            (Number::Exponent | Number::ExponentSign | Number::ExponentDigits, b'0'..=b'9') => {
                Some(Number::ExponentDigits)
            }
            _ => None,
        };
        if let Some(next) = next {
            self.emit(b);
            self.state = State::Number(next);
            return Ok(());
        }
        match number {
            Number::Zero | Number::Integer | Number::Fraction | Number::ExponentDigits => {
                // The number ended one byte ago; this byte belongs to whatever follows it.
                self.end_scalar();
                self.step(b)
            }
            _ => Err(JsonErrorKind::InvalidNumber),
        }
    }

    fn structural_or_string(&mut self, b: u8) -> Result<(), JsonErrorKind> {
        match self.state {
            State::ObjectStart | State::Key if is_whitespace(b) => {}
            State::ObjectStart if b == b'}' => return self.close(true),
            State::ObjectStart | State::Key if b == b'"' => {
                self.begin_key();
                self.state = State::String { key: true };
            }
            State::Colon if is_whitespace(b) => {}
            State::Colon if b == b':' => self.state = State::Value,
            State::AfterValue if is_whitespace(b) => {}
            State::AfterValue if b == b',' => {
                self.state = if self.containers.top_is_object() == Some(true) {
                    State::Key
                } else {
                    if let Some(index) = self.next_index.get_mut(self.containers.len - 1) {
                        *index = index.saturating_add(1);
                    }
                    State::Element
                };
            }
            State::AfterValue if b == b'}' => return self.close(true),
            State::AfterValue if b == b']' => return self.close(false),
            State::Done if is_whitespace(b) => {}
            State::Done => return Err(JsonErrorKind::TrailingData),
            State::String { key } => self.string(key, b)?,
            State::Escape { key } => {
                let decoded = match b {
                    b'"' | b'\\' | b'/' => b,
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'u' => {
                        self.state = State::Unicode { key, digits: 0, unit: 0 };
                        return Ok(());
                    }
                    _ => return Err(JsonErrorKind::InvalidEscape),
                };
                if key {
                    self.key_byte(decoded);
                }
                self.state = State::String { key };
            }
            State::Unicode { key, digits, unit } => {
                let value = hex_value(b).ok_or(JsonErrorKind::InvalidEscape)?;
                let unit = unit << 4 | u16::from(value);
                if digits < 3 {
                    self.state = State::Unicode { key, digits: digits + 1, unit };
                } else {
                    if key {
                        self.key_unit(unit);
                    }
                    self.state = State::String { key };
                }
            }
            State::Utf8 { key, remaining, low, high } => {
                if b < low || b > high {
                    return Err(JsonErrorKind::InvalidUtf8);
                }
                if key {
                    self.key_byte(b);
                }
                self.state = if remaining == 1 {
                    State::String { key }
                } else {
                    State::Utf8 { key, remaining: remaining - 1, low: 0x80, high: 0xbf }
                };
            }
            State::Literal { word, matched } => {
                if word.get(usize::from(matched)) != Some(&b) {
                    return Err(JsonErrorKind::UnexpectedByte);
                }
                if usize::from(matched) + 1 == word.len() {
                    self.end_scalar();
                } else {
                    self.state = State::Literal { word, matched: matched + 1 };
                }
            }
            _ => return Err(JsonErrorKind::UnexpectedByte),
        }
        Ok(())
    }

    fn string(&mut self, key: bool, b: u8) -> Result<(), JsonErrorKind> {
        match b {
            b'"' if key => {
                self.end_key();
                self.state = State::Colon;
            }
            b'"' => self.end_scalar(),
            b'\\' => self.state = State::Escape { key },
            0x00..=0x1f => return Err(JsonErrorKind::ControlCharacterInString),
            0x20..=0x7f => {
                if key {
                    self.key_byte(b);
                }
            }
            _ => {
                // RFC 3629's table of well-formed sequences: no overlongs, no surrogates, ≤ U+10FFFF.
                let (remaining, low, high) = match b {
                    0xc2..=0xdf => (1, 0x80, 0xbf),
                    0xe0 => (2, 0xa0, 0xbf),
                    0xe1..=0xec | 0xee..=0xef => (2, 0x80, 0xbf),
                    0xed => (2, 0x80, 0x9f),
                    0xf0 => (3, 0x90, 0xbf),
                    0xf1..=0xf3 => (3, 0x80, 0xbf),
                    0xf4 => (3, 0x80, 0x8f),
                    _ => return Err(JsonErrorKind::InvalidUtf8),
                };
                if key {
                    self.key_byte(b);
                }
                self.state = State::Utf8 { key, remaining, low, high };
            }
        }
        Ok(())
    }

    /// Copies a byte into every value being captured.
    fn emit(&mut self, b: u8) {
        let mut bits = self.capturing;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let Some(Some(buffer)) = self.captures.get_mut(i) {
                buffer.push(b);
            }
        }
    }

    /// A value starts at the current depth: paths that end here begin capturing (afresh, so a
    /// repeated key keeps its last value).
    fn begin_value(&mut self) {
        let depth = self.containers.len;
        let (Some(&live), Some(&ending)) = (self.live.get(depth), self.ending.get(depth)) else {
            return;
        };
        let mut bits = live & ending;
        self.capturing |= bits;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            self.captures[i] = Some(Vec::new());
        }
    }

    fn end_value(&mut self) {
        if let Some(&ending) = self.ending.get(self.containers.len) {
            self.capturing &= !ending;
        }
    }

    fn end_scalar(&mut self) {
        self.end_value();
        self.state = if self.containers.len == 0 { State::Done } else { State::AfterValue };
    }

    fn close(&mut self, is_object: bool) -> Result<(), JsonErrorKind> {
        if self.containers.top_is_object() != Some(is_object) {
            return Err(JsonErrorKind::UnexpectedByte);
        }
        self.containers.len -= 1;
        self.end_scalar();
        Ok(())
    }

    /// An array element starts: the paths live at it are those whose segment names its index.
    fn enter_element(&mut self) {
        let depth = self.containers.len;
        if depth >= self.live.len() {
            return;
        }
        let index = self.next_index[depth - 1];
        let mut bits = self.live[depth - 1] & self.reaching[depth];
        let mut live = 0;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.paths[i].segments[depth - 1].index == Some(index) {
                live |= 1 << i;
            }
        }
        self.live[depth] = live;
    }

    fn begin_key(&mut self) {
        let depth = self.containers.len;
        self.key_candidates = match (self.live.get(depth - 1), self.reaching.get(depth)) {
            (Some(live), Some(reaching)) => live & reaching,
            _ => 0,
        };
        self.key_matched = 0;
        self.high_surrogate = None;
    }

    /// One byte of the decoded key: drop the paths whose segment differs at this position.
    fn key_byte(&mut self, b: u8) {
        if self.key_candidates == 0 {
            return;
        }
        if self.high_surrogate.take().is_some() {
            // An unpaired surrogate is no valid UTF-8, so no configured segment can match it.
            self.key_candidates = 0;
            return;
        }
        let segment = self.containers.len - 1;
        let mut bits = self.key_candidates;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.paths[i].segments[segment].key.as_bytes().get(self.key_matched) != Some(&b) {
                self.key_candidates &= !(1 << i);
            }
        }
        self.key_matched += 1;
    }

    /// One `\uXXXX` code unit of the key, joined with its partner when it is half a surrogate pair.
    fn key_unit(&mut self, unit: u16) {
        if self.key_candidates == 0 {
            return;
        }
        let code_point = match (self.high_surrogate.take(), unit) {
            (Some(high), 0xdc00..=0xdfff) => {
                0x10000 + ((u32::from(high) - 0xd800) << 10) + (u32::from(unit) - 0xdc00)
            }
            (Some(_), _) => {
                self.key_candidates = 0;
                return;
            }
            (None, 0xd800..=0xdbff) => {
                self.high_surrogate = Some(unit);
                return;
            }
            (None, 0xdc00..=0xdfff) => {
                self.key_candidates = 0;
                return;
            }
            (None, _) => u32::from(unit),
        };
        let mut utf8 = [0u8; 4];
        for &b in encode_utf8(code_point, &mut utf8) {
            self.key_byte(b);
        }
    }

    fn end_key(&mut self) {
        if self.high_surrogate.is_some() {
            self.key_candidates = 0;
        }
        let depth = self.containers.len;
        if depth >= self.live.len() {
            return;
        }
        let mut bits = self.key_candidates;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.paths[i].segments[depth - 1].key.len() != self.key_matched {
                self.key_candidates &= !(1 << i);
            }
        }
        self.live[depth] = self.key_candidates;
    }
}

/// Checks that `document` is one JSON value.
pub fn validate(document: &[u8]) -> Result<(), JsonError> {
    let mut scanner = Scanner::new(&[]);
    scanner.feed(document)?;
    scanner.finish().map(|_| ())
}

/// The values at `paths` in a complete document.
pub fn extract(document: &[u8], paths: &[Path]) -> Result<Vec<Option<Vec<u8>>>, JsonError> {
    let paths: Vec<&Path> = paths.iter().collect();
    let mut scanner = Scanner::new(&paths);
    scanner.feed(document)?;
    scanner.finish()
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn encode_utf8(code_point: u32, buffer: &mut [u8; 4]) -> &[u8] {
    match char::from_u32(code_point) {
        Some(c) => c.encode_utf8(buffer).as_bytes(),
        None => &[],
    }
}

/// Appends `text` to `out` as a JSON string literal.
pub fn write_string(out: &mut Vec<u8>, text: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in text {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x00..=0x1f | 0x7f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// The text of a JSON string literal (quotes included) that the scanner has validated, with its
/// escapes decoded. An unpaired surrogate escape becomes U+FFFD, as in most JSON decoders.
pub fn decode_string(literal: &[u8]) -> Vec<u8> {
    let inner = literal.get(1..literal.len().saturating_sub(1)).unwrap_or(&[]);
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    let mut pending_high: Option<u32> = None;
    while i < inner.len() {
        let b = inner[i];
        if b == b'\\' && inner.get(i + 1) == Some(&b'u') {
            let unit = inner
                .get(i + 2..i + 6)
                .map(|hex| hex.iter().fold(0u32, |acc, &h| acc << 4 | u32::from(hex_value(h).unwrap_or(0))))
                .unwrap_or(0xfffd);
            i += 6;
            let code_point = match (pending_high.take(), unit) {
                (Some(high), 0xdc00..=0xdfff) => 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00),
                (high, 0xd800..=0xdbff) => {
                    if high.is_some() {
                        out.extend_from_slice("\u{fffd}".as_bytes());
                    }
                    pending_high = Some(unit);
                    continue;
                }
                (high, _) => {
                    if high.is_some() {
                        out.extend_from_slice("\u{fffd}".as_bytes());
                    }
                    unit
                }
            };
            let mut utf8 = [0u8; 4];
            let encoded = encode_utf8(code_point, &mut utf8);
            out.extend_from_slice(if encoded.is_empty() { "\u{fffd}".as_bytes() } else { encoded });
            continue;
        }
        if pending_high.take().is_some() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
        if b == b'\\' {
            out.push(match inner.get(i + 1) {
                Some(b'b') => 0x08,
                Some(b'f') => 0x0c,
                Some(b'n') => b'\n',
                Some(b'r') => b'\r',
                Some(b't') => b'\t',
                Some(&other) => other,
                None => b'\\',
            });
            i += 2;
        } else {
            out.push(b);
            i += 1;
        }
    }
    if pending_high.is_some() {
        out.extend_from_slice("\u{fffd}".as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;

    fn paths(texts: &[&str]) -> Vec<Path> {
        texts.iter().map(|t| Path::parse(t).unwrap()).collect()
    }

    fn found(document: &str, texts: &[&str]) -> Vec<Option<String>> {
        extract(document.as_bytes(), &paths(texts))
            .unwrap()
            .into_iter()
            .map(|v| v.map(|bytes| String::from_utf8(bytes).unwrap()))
            .collect()
    }

    fn some(text: &str) -> Option<String> {
        Some(text.into())
    }

    #[test]
    fn nested_fields_come_out_byte_for_byte() {
        let doc = r#"{"data":{"id":12345678901234567890123456789,"attributes":{"name":"\u00e9t\u00E9","score":1.0e+2}}}"#;
        assert_eq!(
            found(doc, &["/data/id", "data.attributes.name", "data.attributes.score"]),
            [some("12345678901234567890123456789"), some(r#""\u00e9t\u00E9""#), some("1.0e+2")]
        );
    }

    #[test]
    fn containers_come_out_whole_with_their_inner_whitespace() {
        let doc = "{\"a\": { \"b\" : [1, 2 ,{\"c\":null}] } , \"z\":0}";
        assert_eq!(found(doc, &["a"]), [some("{ \"b\" : [1, 2 ,{\"c\":null}] }")]);
        assert_eq!(found(doc, &["a.b"]), [some("[1, 2 ,{\"c\":null}]")]);
        assert_eq!(found(doc, &["a.b.2.c", "z"]), [some("null"), some("0")]);
    }

    #[test]
    fn array_elements_are_found_by_index() {
        let doc = r#"{"items":[{"id":"a"},{"id":"b"},[10,20,30]]}"#;
        assert_eq!(found(doc, &["items.1.id", "/items/2/2", "items.3"]), [some(r#""b""#), some("30"), None]);
    }

    #[test]
    fn numeric_segments_also_match_object_keys() {
        assert_eq!(found(r#"{"0":{"1":true}}"#, &["0.1"]), [some("true")]);
    }

    #[test]
    fn nested_paths_capture_at_the_same_time() {
        let doc = r#"{"a":{"b":[1,{"c":"x"}]}}"#;
        assert_eq!(
            found(doc, &["a", "a.b.1.c", "a.b", ""]),
            [some(r#"{"b":[1,{"c":"x"}]}"#), some(r#""x""#), some(r#"[1,{"c":"x"}]"#), some(doc)]
        );
    }

    #[test]
    fn scalars_at_the_root_and_numbers_before_delimiters() {
        assert_eq!(found(" 42 ", &[""]), [some("42")]);
        assert_eq!(found("-0.5e-3", &[""]), [some("-0.5e-3")]);
        assert_eq!(found("[7]", &["0"]), [some("7")]);
        assert_eq!(found("{\"n\":7}", &["n"]), [some("7")]);
        assert_eq!(found("{\"n\":7\n}", &["n"]), [some("7")]);
    }

    #[test]
    fn escaped_keys_match_their_decoded_text() {
        let doc = r#"{"a\"b":1,"\u00e9":2,"\ud83d\ude00":3,"x\/y":4,"\ud83d":5}"#;
        assert_eq!(
            found(doc, &["/a\"b", "é", "😀", "/x~1y", "\u{fffd}"]),
            [some("1"), some("2"), some("3"), some("4"), None]
        );
    }

    #[test]
    fn a_key_that_only_starts_like_the_segment_does_not_match() {
        assert_eq!(found(r#"{"na":1,"namex":2,"name":3}"#, &["name"]), [some("3")]);
    }

    #[test]
    fn a_repeated_key_yields_its_last_value() {
        assert_eq!(found(r#"{"a":{"x":1},"a":[2]}"#, &["a", "a.x"]), [some("[2]"), some("1")]);
    }

    #[test]
    fn missing_paths_and_type_mismatches_yield_none() {
        assert_eq!(found(r#"{"a":[1],"b":"s"}"#, &["a.x", "b.0", "c", "a.1"]), [None, None, None, None]);
    }

    #[test]
    fn chunk_boundaries_change_nothing() {
        let doc = br#"{"k\u00e9y":[1, 22.5e+3, "\ud83d\ude00 \u00e9", {"deep":[true,false,null]}]}"#;
        let wanted = paths(&["/k\u{e9}y", "/k\u{e9}y/1", "/k\u{e9}y/2", "/k\u{e9}y/3/deep"]);
        let whole = extract(doc, &wanted).unwrap();
        let wanted: Vec<&Path> = wanted.iter().collect();
        for size in 1..doc.len() {
            let mut scanner = Scanner::new(&wanted);
            for chunk in doc.chunks(size) {
                scanner.feed(chunk).unwrap();
            }
            assert_eq!(scanner.finish().unwrap(), whole, "chunk size {size}");
        }
        assert_eq!(whole[1].as_deref(), Some(&b"22.5e+3"[..]));
    }

    #[test]
    fn errors_name_their_kind_and_offset() {
        let error = |doc: &str| validate(doc.as_bytes()).unwrap_err();
        assert_eq!(error("{\"a\":1,}"), JsonError { kind: JsonErrorKind::UnexpectedByte, offset: 7 });
        assert_eq!(error("[1] x").kind, JsonErrorKind::TrailingData);
        assert_eq!(error("[\"\x01\"]").kind, JsonErrorKind::ControlCharacterInString);
        assert_eq!(error("[\"\\x\"]").kind, JsonErrorKind::InvalidEscape);
        assert_eq!(error("[01]").kind, JsonErrorKind::UnexpectedByte);
        assert_eq!(error("[1.]").kind, JsonErrorKind::InvalidNumber);
        assert_eq!(error("[1").kind, JsonErrorKind::UnexpectedEnd);
        assert_eq!(error("").kind, JsonErrorKind::UnexpectedEnd);
        assert_eq!(error("[}").kind, JsonErrorKind::UnexpectedByte);
        assert_eq!(validate(b"[\"\xed\xa0\x80\"]").unwrap_err().kind, JsonErrorKind::InvalidUtf8);
        assert_eq!(validate(b"[\"\xc0\xaf\"]").unwrap_err().kind, JsonErrorKind::InvalidUtf8);
    }

    #[test]
    fn deep_nesting_needs_no_stack() {
        let depth = 1_000_000;
        let mut doc = vec![b'['; depth];
        doc.extend(vec![b']'; depth]);
        assert_eq!(validate(&doc), Ok(()));
        doc.pop();
        assert_eq!(validate(&doc).unwrap_err().kind, JsonErrorKind::UnexpectedEnd);
    }

    #[test]
    fn strings_are_written_and_decoded() {
        let mut out = Vec::new();
        write_string(&mut out, "a\"b\\c\n\u{1}é".as_bytes());
        assert_eq!(out, r#""a\"b\\c\n\u0001é""#.as_bytes());
        assert_eq!(validate(&out), Ok(()));
        assert_eq!(decode_string(&out), "a\"b\\c\n\u{1}é".as_bytes());
        assert_eq!(decode_string(br#""\ud83d\ude00\/\t""#), "😀/\t".as_bytes());
        assert_eq!(decode_string(br#""\ud83dx\udc00""#), "\u{fffd}x\u{fffd}".as_bytes());
    }
}

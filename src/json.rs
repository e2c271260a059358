//! A streaming JSON validator that copies out the values found at requested paths.
//!
//! The scanner is a pushdown automaton that takes a byte at a time (and passes over runs of
//! plain text inside strings): the whole state lives in [`Scanner`], so a document can be fed in
//! chunks as they arrive from the network and its memory does not grow with the document. The
//! grammar is a transition table over byte classes (the design of Douglas Crockford's
//! JSON_checker), which is smaller in wasm than the same rules written as `match`es; what the
//! table cannot hold (the container stack, UTF-8 sequences, the paths) is code around it. Nesting
//! is tracked with one bit per open container on the heap, never with recursion, so no document
//! can exhaust the stack. It checks all of RFC 8259 (grammar, escapes, numbers, UTF-8) and builds
//! no tree: the only structure it follows is the path prefix that can still lead to a requested
//! value, as a bit mask per depth up to the longest path. Each captured value is the exact byte
//! range of the document, copied a chunk's range at a time, so numbers, escapes and whitespace
//! inside objects pass through unchanged. A key that occurs twice in an object yields its last
//! value, whole: what an earlier occurrence held is forgotten.

use alloc::vec::Vec;

use crate::path::{Path, Segment};

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

// Character classes: the bytes the grammar tells apart. `\t`, `\n` and `\r` are whitespace
// between tokens but control characters inside strings, so they are not `C_SPACE`.
const C_CTRL: u8 = 0;
const C_SPACE: u8 = 1;
const C_WHITE: u8 = 2;
const C_LCURB: u8 = 3;
const C_RCURB: u8 = 4;
const C_LSQRB: u8 = 5;
const C_RSQRB: u8 = 6;
const C_COLON: u8 = 7;
const C_COMMA: u8 = 8;
const C_QUOTE: u8 = 9;
const C_BACKS: u8 = 10;
const C_SLASH: u8 = 11;
const C_PLUS: u8 = 12;
const C_MINUS: u8 = 13;
const C_POINT: u8 = 14;
const C_ZERO: u8 = 15;
const C_DIGIT: u8 = 16;
// The letters that start a literal or an escape, or are hex digits or an exponent; the rest of
// `true`, `false` and `null` is checked apart from the table.
const C_LOW_B: u8 = 17;
const C_LOW_E: u8 = 18;
const C_LOW_F: u8 = 19;
const C_LOW_N: u8 = 20;
const C_LOW_R: u8 = 21;
const C_LOW_T: u8 = 22;
const C_LOW_U: u8 = 23;
/// The other hex digits: `a`, `c`, `d`, `A`-`D`, `F`.
const C_HEX: u8 = 24;
const C_UP_E: u8 = 25;
/// Any other ASCII character.
const C_ETC: u8 = 26;
/// A byte of a multi-byte UTF-8 character, checked apart from the table.
const C_HIGH: u8 = 27;
const CLASSES: usize = 28;

const fn class_of(b: u8) -> u8 {
    match b {
        0x00..=0x08 | 0x0b | 0x0c | 0x0e..=0x1f => C_CTRL,
        b' ' => C_SPACE,
        b'\t' | b'\n' | b'\r' => C_WHITE,
        b'{' => C_LCURB,
        b'}' => C_RCURB,
        b'[' => C_LSQRB,
        b']' => C_RSQRB,
        b':' => C_COLON,
        b',' => C_COMMA,
        b'"' => C_QUOTE,
        b'\\' => C_BACKS,
        b'/' => C_SLASH,
        b'+' => C_PLUS,
        b'-' => C_MINUS,
        b'.' => C_POINT,
        b'0' => C_ZERO,
        b'1'..=b'9' => C_DIGIT,
        b'b' => C_LOW_B,
        b'e' => C_LOW_E,
        b'f' => C_LOW_F,
        b'n' => C_LOW_N,
        b'r' => C_LOW_R,
        b't' => C_LOW_T,
        b'u' => C_LOW_U,
        b'a' | b'c' | b'd' | b'A'..=b'D' | b'F' => C_HEX,
        b'E' => C_UP_E,
        0x80..=0xff => C_HIGH,
        _ => C_ETC,
    }
}

/// The class of each ASCII byte; every other byte is `C_HIGH`.
static CLASS: [u8; 128] = {
    let mut table = [0; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = class_of(b as u8);
        b += 1;
    }
    table
};

// States. The structural ones say what may come next; the others are inside a token.
/// A value is due: the root, after `:`, or after `,` in an array.
const VA: u8 = 0;
/// After `[`: a value or `]`.
const AR: u8 = 1;
/// After `{`: a key or `}`.
const OB: u8 = 2;
/// After `,` in an object: a key.
const KE: u8 = 3;
/// After a key: `:`.
const CO: u8 = 4;
/// After a value: `,` or a closing bracket inside a container, nothing more at the root.
const OK: u8 = 5;
/// In a string, after `\`, inside a `\uXXXX` escape (its digits counted in [`Scanner::unit`]).
const ST: u8 = 6;
const ES: u8 = 7;
const UX: u8 = 8;
/// A number: after `-`, `0`, other integer digits, `.`, fraction digits, `e`, its sign, its digits.
const MI: u8 = 9;
const ZE: u8 = 10;
const IN: u8 = 11;
const FR: u8 = 12;
const FS: u8 = 13;
const E1: u8 = 14;
const E2: u8 = 15;
const E3: u8 = 16;
/// Inside `true`, `false` or `null`: [`Scanner::literal`] holds the letters still due (a row per
/// letter would cost the table 9 rows).
const LI: u8 = 17;
const STATES: usize = 18;

// What the table answers besides a next state: the bytes that move through the container stack
// or the path, which the scanner handles in code.
const OPEN_OBJECT: u8 = 0xf0;
const OPEN_ARRAY: u8 = 0xf1;
const CLOSE_OBJECT: u8 = 0xf2;
const CLOSE_ARRAY: u8 = 0xf3;
const COMMA: u8 = 0xf4;
const COLON: u8 = 0xf5;
/// A quote: a string value or a key starts, or a string ends.
const QUOTE: u8 = 0xf6;
const ERROR: u8 = 0xff;

/// The grammar of RFC 8259 as `TRANSITIONS[state][class]`, after Douglas Crockford's JSON_checker.
static TRANSITIONS: [[u8; CLASSES]; STATES] = {
    let mut t = [[ERROR; CLASSES]; STATES];
    let whitespace = [C_SPACE, C_WHITE];
    let digits = [C_ZERO, C_DIGIT];
    set(&mut t, &[VA], &whitespace, VA);
    set(&mut t, &[AR], &whitespace, AR);
    set(&mut t, &[OB], &whitespace, OB);
    set(&mut t, &[KE], &whitespace, KE);
    set(&mut t, &[CO], &whitespace, CO);
    // The first byte of a value.
    let value_due = [VA, AR];
    set(&mut t, &value_due, &[C_LCURB], OPEN_OBJECT);
    set(&mut t, &value_due, &[C_LSQRB], OPEN_ARRAY);
    set(&mut t, &value_due, &[C_QUOTE], QUOTE);
    set(&mut t, &value_due, &[C_MINUS], MI);
    set(&mut t, &value_due, &[C_ZERO], ZE);
    set(&mut t, &value_due, &[C_DIGIT], IN);
    set(&mut t, &value_due, &[C_LOW_T, C_LOW_F, C_LOW_N], LI);
    set(&mut t, &[AR], &[C_RSQRB], CLOSE_ARRAY);
    set(&mut t, &[OB, KE], &[C_QUOTE], QUOTE);
    set(&mut t, &[OB], &[C_RCURB], CLOSE_OBJECT);
    set(&mut t, &[CO], &[C_COLON], COLON);
    // After a value, and after a number that may end here.
    let after_value = [OK, ZE, IN, FS, E3];
    set(&mut t, &after_value, &whitespace, OK);
    set(&mut t, &after_value, &[C_COMMA], COMMA);
    set(&mut t, &after_value, &[C_RCURB], CLOSE_OBJECT);
    set(&mut t, &after_value, &[C_RSQRB], CLOSE_ARRAY);
    // Strings take every character but controls; `"` ends them and `\` escapes.
    let mut c = C_SPACE;
    while (c as usize) < CLASSES {
        set(&mut t, &[ST], &[c], ST);
        c += 1;
    }
    set(&mut t, &[ST], &[C_WHITE], ERROR);
    set(&mut t, &[ST], &[C_QUOTE], QUOTE);
    set(&mut t, &[ST], &[C_BACKS], ES);
    set(&mut t, &[ES], &[C_QUOTE, C_BACKS, C_SLASH, C_LOW_B, C_LOW_F, C_LOW_N, C_LOW_R, C_LOW_T], ST);
    set(&mut t, &[ES], &[C_LOW_U], UX);
    let hex = [C_ZERO, C_DIGIT, C_LOW_B, C_LOW_E, C_LOW_F, C_HEX, C_UP_E];
    set(&mut t, &[UX], &hex, UX);
    // Numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    set(&mut t, &[MI], &[C_ZERO], ZE);
    set(&mut t, &[MI, IN], &[C_DIGIT], IN);
    set(&mut t, &[IN], &[C_ZERO], IN);
    set(&mut t, &[ZE, IN], &[C_POINT], FR);
    set(&mut t, &[FR, FS], &digits, FS);
    set(&mut t, &[ZE, IN, FS], &[C_LOW_E, C_UP_E], E1);
    set(&mut t, &[E1], &[C_PLUS, C_MINUS], E2);
    set(&mut t, &[E1, E2, E3], &digits, E3);
    t
};

/// `table[state][class] = next` for each of `states` and `classes`.
const fn set(table: &mut [[u8; CLASSES]; STATES], states: &[u8], classes: &[u8], next: u8) {
    let mut s = 0;
    while s < states.len() {
        let mut c = 0;
        while c < classes.len() {
            table[states[s] as usize][classes[c] as usize] = next;
            c += 1;
        }
        s += 1;
    }
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
        if let Some(word) = self.words.get_mut(word) {
            *word = *word & !(1 << bit) | u64::from(is_object) << bit;
        }
        self.len += 1;
    }

    fn top_is_object(&self) -> Option<bool> {
        let top = self.len.checked_sub(1)?;
        Some(self.words.get(top / 64)? & (1 << (top % 64)) != 0)
    }
}

/// What the scanner knows about one depth of the document, up to the longest path.
#[derive(Clone, Copy, Default)]
struct Level {
    /// Paths with at least this many segments, and with exactly this many.
    reaching: u64,
    ending: u64,
    /// Paths whose segments so far lead to the value now open at this depth.
    live: u64,
    /// The index of the current element, when the container at this depth is an array.
    index: u32,
}

/// Validates a JSON document fed in chunks and captures the values at the given paths.
pub struct Scanner<'p> {
    paths: &'p [&'p Path],
    state: u8,
    containers: ContainerStack,
    levels: Vec<Level>,
    offset: u64,
    /// Inside a string: whether it is a key, the UTF-8 bytes still due and the range of the next.
    in_key: bool,
    utf8_remaining: u8,
    utf8_low: u8,
    utf8_high: u8,
    /// The `\uXXXX` code unit being read, below a marker bit that counts its digits.
    unit: u32,
    /// The letters of `true`, `false` or `null` still due.
    literal: &'static [u8],
    /// Paths whose segment still matches the key being read, and how many bytes of it matched.
    key_candidates: u64,
    key_matched: usize,
    high_surrogate: Option<u16>,
    /// Paths whose value is being copied, and where in the current chunk each value's bytes start.
    capturing: u64,
    capture_from: [usize; MAX_PATHS],
    captures: Vec<Option<Vec<u8>>>,
    /// A captured value could not grow: the memory left is too small for it.
    out_of_memory: bool,
}

impl<'p> Scanner<'p> {
    /// A scanner following `paths`; at most [`MAX_PATHS`] of them (the rest are ignored).
    pub fn new(paths: &'p [&'p Path]) -> Scanner<'p> {
        let paths = paths.get(..MAX_PATHS).unwrap_or(paths);
        let deepest = paths.iter().map(|p| p.segments.len()).max().unwrap_or(0);
        let mut levels = Vec::with_capacity(deepest + 1);
        for depth in 0..=deepest {
            let mut level = Level::default();
            for (i, path) in paths.iter().enumerate() {
                let length = path.segments.len();
                level.reaching |= u64::from(length >= depth) << i;
                level.ending |= u64::from(length == depth) << i;
            }
            levels.push(level);
        }
        if let Some(root) = levels.first_mut() {
            root.live = root.reaching;
        }
        // Not `resize`, which clones its fill value (and so brings `Clone` for vectors along).
        let captures = core::iter::repeat_with(|| None).take(paths.len()).collect();
        Scanner {
            paths,
            state: VA,
            containers: ContainerStack { words: Vec::new(), len: 0 },
            levels,
            offset: 0,
            in_key: false,
            utf8_remaining: 0,
            utf8_low: 0,
            utf8_high: 0,
            unit: 0,
            literal: &[],
            key_candidates: 0,
            key_matched: 0,
            high_surrogate: None,
            capturing: 0,
            capture_from: [0; MAX_PATHS],
            captures,
            out_of_memory: false,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether a captured value outgrew the memory left (what it kept is then incomplete).
    pub fn out_of_memory(&self) -> bool {
        self.out_of_memory
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), JsonError> {
        let mut at = 0;
        while let Some(&b) = chunk.get(at) {
            if let Err(kind) = self.step(chunk, at, b) {
                return Err(JsonError { kind, offset: self.offset + at as u64 });
            }
            at += 1;
            if self.state == ST && !self.in_key && self.utf8_remaining == 0 {
                // Inside a string value, printable ASCII needs nothing but passing over (a value
                // being captured is copied as a range): long strings cost one compare a byte.
                while chunk.get(at).is_some_and(|&b| matches!(b, b' '..=b'~') && b != b'"' && b != b'\\') {
                    at += 1;
                }
            }
        }
        // The values still open go on in the next chunk.
        self.copy_captured(self.capturing, chunk, chunk.len());
        self.offset += chunk.len() as u64;
        Ok(())
    }

    /// Ends the document: the value captured for each path, in the order of the paths given to
    /// [`Scanner::new`], `None` where the path matched nothing.
    pub fn finish(mut self) -> Result<Vec<Option<Vec<u8>>>, JsonError> {
        match self.state {
            OK if self.containers.len == 0 => {}
            ZE | IN | FS | E3 if self.containers.len == 0 => self.end_value(&[], 0),
            _ => return Err(JsonError { kind: JsonErrorKind::UnexpectedEnd, offset: self.offset }),
        }
        Ok(self.captures)
    }

    /// Takes byte `b`, found at `chunk[at]`.
    fn step(&mut self, chunk: &[u8], at: usize, b: u8) -> Result<(), JsonErrorKind> {
        let state = self.state;
        if self.utf8_remaining > 0 || (state == ST && b >= 0x80) {
            return self.utf8_byte(b);
        }
        if state == LI {
            match self.literal.split_first() {
                Some((&due, rest)) if due == b => self.literal = rest,
                _ => return Err(JsonErrorKind::UnexpectedByte),
            }
            if self.literal.is_empty() {
                self.end_value(chunk, at + 1);
                self.state = OK;
            }
            return Ok(());
        }
        let class = CLASS.get(usize::from(b)).copied().unwrap_or(C_HIGH);
        // `state` and `class` are always in range; `get` keeps a panic (and its formatting) out.
        let mut next = TRANSITIONS.get(usize::from(state)).and_then(|row| row.get(usize::from(class))).copied().unwrap_or(ERROR);
        if next == ERROR {
            return Err(self.error_at(state));
        }
        if matches!(state, ZE | IN | FS | E3) && !matches!(next, ZE..=E3) {
            // The number ended with the previous byte.
            self.end_value(chunk, at);
        }
        if matches!(state, VA | AR) && !matches!(class, C_SPACE | C_WHITE) && next != CLOSE_ARRAY {
            self.begin_value(at);
        }
        match next {
            OPEN_OBJECT | OPEN_ARRAY => {
                let is_object = next == OPEN_OBJECT;
                if let Some(level) = self.levels.get_mut(self.containers.len) {
                    level.index = 0;
                }
                self.containers.push(is_object);
                next = if is_object { OB } else { AR };
            }
            CLOSE_OBJECT | CLOSE_ARRAY => {
                match self.containers.top_is_object() {
                    None => return Err(JsonErrorKind::TrailingData),
                    Some(is_object) if is_object != (next == CLOSE_OBJECT) => return Err(JsonErrorKind::UnexpectedByte),
                    Some(_) => {}
                }
                self.containers.len -= 1;
                self.end_value(chunk, at + 1);
                next = OK;
            }
            COMMA => {
                next = match self.containers.top_is_object() {
                    None => return Err(JsonErrorKind::TrailingData),
                    Some(true) => KE,
                    Some(false) => {
                        if let Some(level) = self.levels.get_mut(self.containers.len - 1) {
                            level.index = level.index.saturating_add(1);
                        }
                        VA
                    }
                };
            }
            COLON => next = VA,
            QUOTE if state == ST => {
                if self.in_key {
                    self.end_key();
                    next = CO;
                } else {
                    self.end_value(chunk, at + 1);
                    next = OK;
                }
            }
            QUOTE => {
                self.in_key = matches!(state, OB | KE);
                if self.in_key {
                    self.begin_key();
                }
                next = ST;
            }
            ST if state == ST => self.key_byte(b),
            ST if state == ES => self.key_byte(match b {
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                other => other,
            }),
            // A marker bit above the digits to come: after four of them it reaches bit 16.
            UX if state == ES => self.unit = 1,
            LI => {
                self.literal = match b {
                    b't' => b"rue",
                    b'f' => b"alse",
                    _ => b"ull",
                }
            }
            _ => {}
        }
        if state == UX {
            self.unit = self.unit << 4 | u32::from(hex_value(b).unwrap_or(0));
            if self.unit > 0xffff {
                self.key_unit(self.unit as u16);
                next = ST;
            }
        }
        self.state = next;
        Ok(())
    }

    /// Why `state` refuses the byte it was given.
    fn error_at(&self, state: u8) -> JsonErrorKind {
        match state {
            ST => JsonErrorKind::ControlCharacterInString,
            ES | UX => JsonErrorKind::InvalidEscape,
            MI | FR | E1 | E2 => JsonErrorKind::InvalidNumber,
            // A number that can end here has ended, and what follows is refused after it.
            OK | ZE | IN | FS | E3 if self.containers.len == 0 => JsonErrorKind::TrailingData,
            _ => JsonErrorKind::UnexpectedByte,
        }
    }

    /// A byte of a multi-byte character inside a string, checked against RFC 3629's table of
    /// well-formed sequences: no overlongs, no surrogates, nothing above U+10FFFF.
    fn utf8_byte(&mut self, b: u8) -> Result<(), JsonErrorKind> {
        if self.utf8_remaining > 0 {
            if b < self.utf8_low || b > self.utf8_high {
                return Err(JsonErrorKind::InvalidUtf8);
            }
            self.utf8_remaining -= 1;
            (self.utf8_low, self.utf8_high) = (0x80, 0xbf);
        } else {
            (self.utf8_remaining, self.utf8_low, self.utf8_high) = match b {
                0xc2..=0xdf => (1, 0x80, 0xbf),
                0xe0 => (2, 0xa0, 0xbf),
                0xe1..=0xec | 0xee..=0xef => (2, 0x80, 0xbf),
                0xed => (2, 0x80, 0x9f),
                0xf0 => (3, 0x90, 0xbf),
                0xf1..=0xf3 => (3, 0x80, 0xbf),
                0xf4 => (3, 0x80, 0x8f),
                _ => return Err(JsonErrorKind::InvalidUtf8),
            };
        }
        self.key_byte(b);
        Ok(())
    }

    /// A value starts at `chunk[at]`: the paths that end at its depth start copying it, and the
    /// paths that go on through it forget what they found so far. Both start afresh because a key
    /// that occurs twice in an object yields its last value, whole.
    fn begin_value(&mut self, at: usize) {
        let depth = self.containers.len;
        if self.containers.top_is_object() == Some(false) {
            self.enter_element(depth);
        }
        let Some(level) = self.levels.get(depth) else { return };
        let mut through = level.live & !level.ending;
        while through != 0 {
            let i = through.trailing_zeros() as usize;
            through &= through - 1;
            if let Some(capture) = self.captures.get_mut(i) {
                *capture = None;
            }
        }
        let mut bits = level.live & level.ending;
        self.capturing |= bits;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let (Some(capture), Some(from)) = (self.captures.get_mut(i), self.capture_from.get_mut(i)) {
                *capture = Some(Vec::new());
                *from = at;
            }
        }
    }

    /// The value at the current depth ended before `chunk[end]`.
    fn end_value(&mut self, chunk: &[u8], end: usize) {
        let ending = self.levels.get(self.containers.len).map_or(0, |level| level.ending) & self.capturing;
        self.copy_captured(ending, chunk, end);
        self.capturing &= !ending;
    }

    /// Appends to the values of `paths` their bytes of `chunk` up to `end`.
    fn copy_captured(&mut self, paths: u64, chunk: &[u8], end: usize) {
        let mut bits = paths;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let (Some(Some(capture)), Some(from)) = (self.captures.get_mut(i), self.capture_from.get_mut(i)) {
                let bytes = chunk.get(*from..end).unwrap_or(&[]);
                // Fallible, so that a value larger than the memory left is an error, not a trap.
                if capture.try_reserve(bytes.len()).is_ok() {
                    capture.extend_from_slice(bytes);
                } else {
                    self.out_of_memory = true;
                }
                *from = 0;
            }
        }
    }

    /// An element of the array at `depth - 1` starts: the paths live at it are those whose
    /// segment names its index.
    fn enter_element(&mut self, depth: usize) {
        let (Some(parent), Some(level)) = (self.levels.get(depth - 1).copied(), self.levels.get(depth)) else { return };
        let mut bits = parent.live & level.reaching;
        let mut live = 0;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.segment(i, depth - 1).is_some_and(|segment| segment.index == Some(parent.index)) {
                live |= 1 << i;
            }
        }
        if let Some(level) = self.levels.get_mut(depth) {
            level.live = live;
        }
    }

    fn segment(&self, path: usize, depth: usize) -> Option<&'p Segment> {
        self.paths.get(path)?.segments.get(depth)
    }

    fn begin_key(&mut self) {
        let depth = self.containers.len;
        self.key_candidates = match (self.levels.get(depth - 1), self.levels.get(depth)) {
            (Some(parent), Some(level)) => parent.live & level.reaching,
            _ => 0,
        };
        self.key_matched = 0;
        self.high_surrogate = None;
    }

    /// One byte of the decoded key: drop the paths whose segment differs at this position.
    fn key_byte(&mut self, b: u8) {
        if !self.in_key || self.key_candidates == 0 {
            return;
        }
        if self.high_surrogate.take().is_some() {
            // An unpaired surrogate is no valid UTF-8, so no configured segment can match it.
            self.key_candidates = 0;
            return;
        }
        let depth = self.containers.len - 1;
        let mut bits = self.key_candidates;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.segment(i, depth).and_then(|segment| segment.key.as_bytes().get(self.key_matched)) != Some(&b) {
                self.key_candidates &= !(1 << i);
            }
        }
        self.key_matched += 1;
    }

    /// One `\uXXXX` code unit of the key, joined with its partner when it is half a surrogate pair.
    fn key_unit(&mut self, unit: u16) {
        if !self.in_key || self.key_candidates == 0 {
            return;
        }
        let code_point = match (self.high_surrogate.take(), unit) {
            (Some(high), 0xdc00..=0xdfff) => 0x10000 + ((u32::from(high) - 0xd800) << 10) + (u32::from(unit) - 0xdc00),
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
        let mut bits = self.key_candidates;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.segment(i, depth - 1).is_none_or(|segment| segment.key.len() != self.key_matched) {
                self.key_candidates &= !(1 << i);
            }
        }
        if let Some(level) = self.levels.get_mut(depth) {
            level.live = self.key_candidates;
        }
        self.in_key = false;
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
    out.push(b'"');
    write_escaped(out, text);
    out.push(b'"');
}

/// Appends `text` escaped as the contents of a JSON string literal: no control character, quote
/// or backslash is left as it is.
pub fn write_escaped(out: &mut Vec<u8>, text: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
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
        extract(document.as_bytes(), &paths(texts)).unwrap().into_iter().map(|v| v.map(|bytes| String::from_utf8(bytes).unwrap())).collect()
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
        assert_eq!(found(doc, &["/a\"b", "é", "😀", "/x~1y", "\u{fffd}"]), [some("1"), some("2"), some("3"), some("4"), None]);
    }

    #[test]
    fn a_key_that_only_starts_like_the_segment_does_not_match() {
        assert_eq!(found(r#"{"na":1,"namex":2,"name":3}"#, &["name"]), [some("3")]);
    }

    #[test]
    fn a_repeated_key_yields_its_last_value() {
        assert_eq!(found(r#"{"a":{"x":1},"a":[2]}"#, &["a", "a.x"]), [some("[2]"), None]);
        assert_eq!(found(r#"{"a":{"b":{"x":1}},"a":{"b":{"y":2}}}"#, &["a.b.x", "a.b.y"]), [None, some("2")]);
        assert_eq!(found(r#"{"a":[{"x":1},{"x":2}]}"#, &["a.0.x", "a.1.x"]), [some("1"), some("2")]);
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

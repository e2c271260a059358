//! The streaming validator: the pushdown automaton that takes the document a byte at a time (and
//! passes over runs of plain text inside strings), its state held whole in [`Scanner`] so that
//! chunks can come as the network delivers them. Between tokens it takes a whole token at a time
//! while the token is plain and ends inside the chunk (`Scanner::tokens`: most of a document), and
//! inside a container no path reaches it leaves the matcher out. Which values are copied out is
//! the matcher's part ([`super::matcher`]).

use alloc::vec::Vec;

use super::error::{JsonError, JsonErrorKind};
use super::grammar::*;
use super::matcher::Level;
use super::skip::skip_value;
use super::string::hex_value;
use crate::path::{Names, Path};

/// The most paths one scanner follows: one bit each in a `u64` mask.
pub const MAX_PATHS: usize = 64;

/// One bit per open container: set for an object, clear for an array.
pub(super) struct ContainerStack {
    pub(super) words: Vec<u64>,
    pub(super) len: usize,
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

    pub(super) fn top_is_object(&self) -> Option<bool> {
        let top = self.len.checked_sub(1)?;
        Some(self.words.get(top / 64)? & (1 << (top % 64)) != 0)
    }
}

/// Validates a JSON document fed in chunks and captures the values at the given paths.
pub struct Scanner<'p> {
    pub(super) paths: &'p [&'p Path],
    pub(super) state: u8,
    pub(super) containers: ContainerStack,
    pub(super) levels: Vec<Level>,
    pub(super) offset: u64,
    /// Inside a string: whether it is a key, the UTF-8 bytes still due and the range of the next.
    pub(super) in_key: bool,
    pub(super) utf8_remaining: u8,
    pub(super) utf8_low: u8,
    pub(super) utf8_high: u8,
    /// The `\uXXXX` code unit being read, below a marker bit that counts its digits.
    pub(super) unit: u32,
    /// The letters of `true`, `false` or `null` still due.
    pub(super) literal: &'static [u8],
    /// Paths whose segment still matches the key being read, and how many bytes of it matched.
    pub(super) key_candidates: u64,
    pub(super) key_matched: usize,
    pub(super) high_surrogate: Option<u16>,
    /// Paths whose value is being copied, and where in the current chunk each value's bytes start.
    pub(super) capturing: u64,
    pub(super) capture_from: [usize; MAX_PATHS],
    pub(super) captures: Vec<Option<Vec<u8>>>,
    /// Per path, the first byte of the value met at each depth it reached (its type), as far as
    /// it reached in the last occurrence: why a path found nothing.
    pub(super) met: Vec<Vec<u8>>,
    /// Paths only followed for `met`, their values not copied.
    pub(super) probes: u64,
    /// Paths that end in `[]`: their capture is a list of elements, each ending at one of `ends`
    /// (what comes after the last is an element still open).
    pub(super) streams: u64,
    pub(super) ends: Vec<Vec<usize>>,
    /// Paths that pick a member of each object element of a stream (the stream's path, then a
    /// key): `selector_of` names the stream. The stream then holds, for each object element, a
    /// copy with only the members picked (`{"id":1,"name":"a"}`): what a program that reads no
    /// more of an element needs, copied and walked instead of the whole element.
    pub(super) selectors: u64,
    pub(super) selector_of: [u8; MAX_PATHS],
    /// Streams with selectors, and those whose element being read is such a copy.
    pub(super) picked_streams: u64,
    pub(super) selecting: u64,
    /// Streams whose container started over (a repeated key) since their elements were last taken.
    pub(super) restarted: u64,
    /// A captured value could not grow: the memory left is too small for it.
    pub(super) out_of_memory: bool,
    /// The depth of the inside of a container no path reaches (`usize::MAX`: none is open): its
    /// bytes go through the grammar alone, none of the matcher's hooks (which read the levels that
    /// such a container leaves as they were).
    pub(super) dead_below: usize,
}

impl<'p> Scanner<'p> {
    /// A scanner following `paths`; at most [`MAX_PATHS`] of them (the rest are ignored).
    pub fn new(paths: &'p [&'p Path]) -> Scanner<'p> {
        Scanner::following(paths, 0)
    }

    /// A scanner following `paths`, those in the mask `probes` only for what they met.
    pub fn following(paths: &'p [&'p Path], probes: u64) -> Scanner<'p> {
        let paths = paths.get(..MAX_PATHS).unwrap_or(paths);
        let mut streams = 0;
        for (i, path) in paths.iter().enumerate() {
            streams |= u64::from(path.segments.last().is_some_and(|segment| segment.names == Names::Every)) << i;
        }
        // A selector: a stream's path and one key more.
        let (mut selectors, mut selector_of, mut picked_streams) = (0, [0; MAX_PATHS], 0);
        for (i, path) in paths.iter().enumerate() {
            let Some((last, stream_path)) = path.segments.split_last() else { continue };
            let stream = paths.iter().position(|other| other.segments == stream_path);
            if let (Some(stream), Names::Key, Some(slot)) = (stream, last.names, selector_of.get_mut(i)) {
                if streams & 1 << stream != 0 {
                    selectors |= 1 << i;
                    picked_streams |= 1 << stream;
                    *slot = stream as u8;
                }
            }
        }
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
            met: core::iter::repeat_with(Vec::new).take(paths.len()).collect(),
            probes,
            streams,
            ends: core::iter::repeat_with(Vec::new).take(paths.len()).collect(),
            selectors,
            selector_of,
            picked_streams,
            selecting: 0,
            restarted: 0,
            out_of_memory: false,
            dead_below: usize::MAX,
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
            if self.state <= OK {
                // Between tokens: whole tokens at a time, while they are plain.
                let past = self.tokens(chunk, at);
                if past != at {
                    at = past;
                    continue;
                }
            }
            if let Err(kind) = self.step(chunk, at, b) {
                return Err(JsonError { kind, offset: self.offset + at as u64 });
            }
            at += 1;
            if self.state == ST && (!self.in_key || self.key_candidates == 0) && self.utf8_remaining == 0 {
                // Inside a string value, or a key no path can match, printable ASCII needs nothing
                // but passing over (a value being captured is copied as a range): a block at a
                // time while none ends the run (`plain_run`), then one byte at a time.
                at = plain_end(chunk, at);
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
        self.end()?;
        Ok(self.captures)
    }

    /// Ends the document, keeping what was found for [`Scanner::found`] and [`Scanner::met`].
    pub fn end(&mut self) -> Result<(), JsonError> {
        match self.state {
            OK if self.containers.len == 0 => Ok(()),
            ZE | IN | FS | E3 if self.containers.len == 0 => {
                self.end_value(&[], 0);
                Ok(())
            }
            _ => Err(JsonError { kind: JsonErrorKind::UnexpectedEnd, offset: self.offset }),
        }
    }

    /// The value captured for path `i`, once the document has ended.
    pub fn found(&self, i: usize) -> Option<&[u8]> {
        self.captures.get(i)?.as_deref()
    }

    /// The types met along path `i` (the first byte of the value at each depth it reached).
    pub fn met(&self, i: usize) -> &[u8] {
        self.met.get(i).map_or(&[], |met| met)
    }

    /// Whether the container of path `i`, one that ends in `[]`, started over since last asked
    /// (a repeated key: the elements handed over before belong to a value jq drops).
    pub fn restarted(&mut self, i: usize) -> bool {
        let restarted = self.restarted & 1 << i != 0;
        self.restarted &= !(1 << i);
        restarted
    }

    /// For path `i`, one that ends in `[]`: hands `each` the elements completed since the last
    /// call, as a list separated by commas (one may lead) with the offset where each ends, and
    /// forgets them.
    pub fn take_elements<E>(&mut self, i: usize, each: impl FnOnce(&[u8], &[usize]) -> Result<(), E>) -> Result<(), E> {
        if let (Some(Some(elements)), Some(ends)) = (self.captures.get_mut(i), self.ends.get_mut(i)) {
            if let Some(&complete) = ends.last() {
                each(elements.get(..complete).unwrap_or(&[]), ends)?;
                let rest = elements.len().saturating_sub(complete);
                // Checked first: the check inside `copy_within` links a panic's message.
                if complete <= elements.len() {
                    elements.copy_within(complete.., 0);
                }
                elements.truncate(rest);
                ends.clear();
            }
        }
        Ok(())
    }

    /// Takes byte `b`, found at `chunk[at]`.
    /// Inside a container no path reaches (`dead_below`), the grammar alone: none of the matcher's
    /// hooks, which read the levels that such a container leaves as they were.
    fn step(&mut self, chunk: &[u8], at: usize, b: u8) -> Result<(), JsonErrorKind> {
        let state = self.state;
        let live = self.containers.len < self.dead_below;
        if self.utf8_remaining > 0 || (state == ST && b >= 0x80) {
            return self.utf8_byte(b);
        }
        if state == LI {
            match self.literal.split_first() {
                Some((&due, rest)) if due == b => self.literal = rest,
                _ => return Err(JsonErrorKind::UnexpectedByte),
            }
            if self.literal.is_empty() {
                if live {
                    self.end_value(chunk, at + 1);
                }
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
        if live && matches!(state, ZE | IN | FS | E3) && !matches!(next, ZE..=E3) {
            // The number ended with the previous byte.
            self.end_value(chunk, at);
        }
        if live && matches!(state, VA | AR) && !matches!(class, C_SPACE | C_WHITE) && next != CLOSE_ARRAY {
            self.begin_value(at, b);
        }
        match next {
            OPEN_OBJECT | OPEN_ARRAY => next = self.open(next == OPEN_OBJECT, live),
            CLOSE_OBJECT | CLOSE_ARRAY => {
                match self.containers.top_is_object() {
                    None => return Err(JsonErrorKind::TrailingData),
                    Some(is_object) if is_object != (next == CLOSE_OBJECT) => return Err(JsonErrorKind::UnexpectedByte),
                    Some(_) => {}
                }
                next = self.close(chunk, at + 1);
            }
            COMMA => next = self.comma().ok_or(JsonErrorKind::TrailingData)?,
            COLON => next = VA,
            QUOTE if state == ST => {
                next = if self.in_key { CO } else { OK };
                if live {
                    if self.in_key {
                        self.end_key();
                    } else {
                        self.end_value(chunk, at + 1);
                    }
                }
            }
            QUOTE => {
                self.in_key = matches!(state, OB | KE);
                if live && self.in_key {
                    self.begin_key(at);
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

    /// Takes the whole tokens from `chunk[at]`, between tokens, with the matcher's hooks as
    /// [`Scanner::step`] calls them byte by byte, until a token is not plain (an escape, a byte
    /// past ASCII, an error) or the chunk ends inside it: that one is left, from its first byte,
    /// to `step`. A token is checked whole before any hook is told of it.
    fn tokens(&mut self, chunk: &[u8], mut at: usize) -> usize {
        while let Some(&b) = chunk.get(at) {
            let state = self.state;
            let live = self.containers.len < self.dead_below;
            let value_due = matches!(state, VA | AR);
            if value_due && live && !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b']') && self.unreached() {
                if let Some(end) = skip_value(chunk, at) {
                    self.state = OK;
                    at = end;
                    continue;
                }
                if !matches!(b, b'{' | b'[') {
                    // A scalar the pass did not take is one the arms below refuse too (it ends
                    // with the chunk, or is no JSON): to the automaton, not read again here.
                    break;
                }
            }
            // A value's last byte, for the hooks that begin and end it.
            let end = match b {
                b' ' | b'\t' | b'\n' | b'\r' => {
                    at = space_run(chunk, at);
                    continue;
                }
                b'"' if value_due || matches!(state, OB | KE) => {
                    // Printable ASCII and well-formed UTF-8, no escape: the text is its own
                    // decoding.
                    let end = text_end(chunk, at + 1);
                    if chunk.get(end) != Some(&b'"') {
                        break;
                    }
                    if !value_due {
                        // A key: its text is its decoded text.
                        if live {
                            self.begin_key(at);
                            self.match_key(chunk.get(at + 1..end).unwrap_or(&[]));
                            self.end_key();
                        }
                        self.state = CO;
                        at = end + 1;
                        continue;
                    }
                    end + 1
                }
                b':' if state == CO => {
                    self.state = VA;
                    at += 1;
                    continue;
                }
                b',' if state == OK => {
                    // At the root, left to `step`, which refuses it.
                    let Some(next) = self.comma() else { break };
                    self.state = next;
                    at += 1;
                    continue;
                }
                b'{' | b'[' if value_due => {
                    if live {
                        self.begin_value(at, b);
                        if let Some(end) = (b == b'{').then(|| self.pick_members(chunk, at)).flatten() {
                            self.end_value(chunk, end);
                            self.state = OK;
                            at = end;
                            continue;
                        }
                    }
                    self.state = self.open(b == b'{', live);
                    at += 1;
                    continue;
                }
                b'}' | b']' if state == OK || state == if b == b'}' { OB } else { AR } => {
                    if self.containers.top_is_object() != Some(b == b'}') {
                        break;
                    }
                    self.state = self.close(chunk, at + 1);
                    at += 1;
                    continue;
                }
                _ if value_due => match scalar_end(chunk, at) {
                    Some(end) => end,
                    None => break,
                },
                _ => break,
            };
            // A scalar value from `at` to `end`.
            if live {
                self.begin_value(at, b);
                self.end_value(chunk, end);
            }
            self.state = OK;
            at = end;
        }
        at
    }

    /// Whether no path reaches the value due at the current depth (in an array, the element its
    /// index names: the paths live at it are noted first, as `begin_value` notes them), so that
    /// the matcher's hooks would do nothing for it, nor inside it.
    fn unreached(&mut self) -> bool {
        let depth = self.containers.len;
        if self.containers.top_is_object() == Some(false) {
            self.enter_element(depth);
        }
        self.levels.get(depth).is_none_or(|level| level.live == 0)
    }

    /// A container opens (its value begun with the matcher, when `live`): the state after its
    /// bracket. Where no path reaches it, its inside is left to the grammar alone.
    fn open(&mut self, is_object: bool, live: bool) -> u8 {
        let depth = self.containers.len;
        if let Some(level) = self.levels.get_mut(depth) {
            level.index = 0;
        }
        // The value's paths were found live or not by `begin_value`, just before.
        if live && self.levels.get(depth).is_none_or(|level| level.live == 0) {
            self.dead_below = depth + 1;
            self.key_candidates = 0;
        }
        self.containers.push(is_object);
        if is_object {
            OB
        } else {
            AR
        }
    }

    /// The open container, checked to be the one its bracket closes, ends before `chunk[end]`:
    /// the state after it. Where a container no path reaches closes, the matcher takes over again.
    fn close(&mut self, chunk: &[u8], end: usize) -> u8 {
        self.containers.len -= 1;
        if self.containers.len < self.dead_below {
            self.dead_below = usize::MAX;
            self.end_value(chunk, end);
        }
        OK
    }

    /// A comma after a value: the state after it, and the next element's index in an array;
    /// `None` at the root, where no comma may come.
    fn comma(&mut self) -> Option<u8> {
        let is_object = self.containers.top_is_object()?;
        if !is_object {
            if let Some(level) = self.levels.get_mut(self.containers.len - 1) {
                level.index = level.index.saturating_add(1);
            }
        }
        Some(if is_object { KE } else { VA })
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
            (self.utf8_remaining, self.utf8_low, self.utf8_high) = utf8_lead(b).ok_or(JsonErrorKind::InvalidUtf8)?;
        }
        self.key_byte(b);
        Ok(())
    }
}

/// For the first byte of a multi-byte UTF-8 character: how many bytes follow, and the range of
/// the next one (RFC 3629's table of well-formed sequences: no overlongs, no surrogates, nothing
/// above U+10FFFF); the bytes after it are 0x80 to 0xBF.
fn utf8_lead(b: u8) -> Option<(u8, u8, u8)> {
    Some(match b {
        0xc2..=0xdf => (1, 0x80, 0xbf),
        0xe0 => (2, 0xa0, 0xbf),
        0xe1..=0xec | 0xee..=0xef => (2, 0x80, 0xbf),
        0xed => (2, 0x80, 0x9f),
        0xf0 => (3, 0x90, 0xbf),
        0xf1..=0xf3 => (3, 0x80, 0xbf),
        0xf4 => (3, 0x80, 0x8f),
        _ => return None,
    })
}

/// Where the text of a string starting at `chunk[at]` stops being its own decoding: printable
/// ASCII and well-formed UTF-8 (RFC 3629), up to a quote, an escape, a control character, DEL, an
/// ill-formed sequence or the chunk's end.
pub(super) fn text_end(chunk: &[u8], at: usize) -> usize {
    let mut end = at;
    loop {
        end = plain_end(chunk, end);
        let Some(&lead) = chunk.get(end).filter(|&&b| b >= 0x80) else { return end };
        let Some((more, low, high)) = utf8_lead(lead) else { return end };
        let well_formed = chunk.get(end + 1).is_some_and(|&b| (low..=high).contains(&b))
            && (2..=usize::from(more)).all(|i| chunk.get(end + i).is_some_and(|&b| (0x80..=0xbf).contains(&b)));
        if !well_formed {
            return end;
        }
        end += usize::from(more) + 1;
    }
}

/// Where the number or literal starting at `chunk[at]` ends, when it is well formed and ends
/// inside the chunk (a number at the chunk's end may go on in the next one).
pub(super) fn scalar_end(chunk: &[u8], at: usize) -> Option<usize> {
    let digits = |mut at: usize| {
        while chunk.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        at
    };
    let literal: &[u8] = match chunk.get(at)? {
        b't' => b"true",
        b'f' => b"false",
        b'n' => b"null",
        &b => {
            // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
            let start = at + usize::from(b == b'-');
            let mut end = match chunk.get(start)? {
                b'0' => start + 1,
                b'1'..=b'9' => digits(start + 1),
                _ => return None,
            };
            if chunk.get(end) == Some(&b'.') {
                let fraction = digits(end + 1);
                if fraction == end + 1 {
                    return None;
                }
                end = fraction;
            }
            if matches!(chunk.get(end), Some(b'e' | b'E')) {
                let sign = end + 1 + usize::from(matches!(chunk.get(end + 1), Some(b'+' | b'-')));
                end = digits(sign);
                if end == sign {
                    return None;
                }
            }
            return (end < chunk.len()).then_some(end);
        }
    };
    chunk.get(at..)?.starts_with(literal).then_some(at + literal.len())
}

/// Where the run of plain string text (printable ASCII, no quote, no backslash) starting at
/// `at` ends: whole blocks (`plain_run`), then a byte at a time.
fn plain_end(chunk: &[u8], at: usize) -> usize {
    let mut at = plain_run(chunk, at);
    while chunk.get(at).is_some_and(|&b| matches!(b, b' '..=b'~') && b != b'"' && b != b'\\') {
        at += 1;
    }
    at
}

/// Where a run of plain string text (printable ASCII, no quote, no backslash) starting at `at`
/// stops being whole blocks: eight bytes a step (SWAR); `plain_end` takes the rest byte by byte.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn plain_run(chunk: &[u8], mut at: usize) -> usize {
    while chunk.get(at..at + 8).and_then(|word| word.try_into().ok()).is_some_and(|word| all_plain(u64::from_le_bytes(word))) {
        at += 8;
    }
    at
}

/// The same sixteen bytes a step with wasm SIMD128 (which wasmtime and Spin enable), up to the
/// first byte that ends the run. Measured on bench/shape's 114.8 MB document: 3% faster than SWAR
/// on `.[0].id`, 5% on the `select` row, and 166 bytes smaller; built from sixteen byte loads
/// instead of two 8-byte ones it was 10% slower. tests/jsontestsuite.rs ends runs at every offset.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn plain_run(chunk: &[u8], mut at: usize) -> usize {
    use core::arch::wasm32::{u64x2, u8x16_bitmask, u8x16_eq, u8x16_ge, u8x16_lt, u8x16_splat, v128_or};
    let word = |at: usize| chunk.get(at..at + 8).and_then(|word| word.try_into().ok()).map(u64::from_le_bytes);
    while let (Some(low), Some(high)) = (word(at), word(at + 8)) {
        // Two 8-byte loads: a 16-byte one needs a raw pointer (unsafe, kept to host/).
        let block = u64x2(low, high);
        let quote = v128_or(u8x16_eq(block, u8x16_splat(b'"')), u8x16_eq(block, u8x16_splat(b'\\')));
        let stops = v128_or(quote, v128_or(u8x16_lt(block, u8x16_splat(0x20)), u8x16_ge(block, u8x16_splat(0x7f))));
        let mask = u8x16_bitmask(stops);
        if mask != 0 {
            return at + mask.trailing_zeros() as usize;
        }
        at += 16;
    }
    at
}

/// Where a run of whitespace (space, tab, line feed, carriage return) starting at `at` ends: a
/// byte at a time, since most runs are one space (after `,` or `:`) or a line's indentation, both
/// shorter than a SIMD block (16 bytes a step measured 14% slower on bench/shape's document).
#[inline(always)]
pub(super) fn space_run(chunk: &[u8], at: usize) -> usize {
    // Most tokens have none before them: the test inline, the run's loop called (inlined whole at
    // every use, the loop cost 500 bytes; not inlined, the call was 9% of the `select` row).
    #[inline(never)]
    fn run(chunk: &[u8], mut at: usize) -> usize {
        while matches!(chunk.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            at += 1;
        }
        at
    }
    if chunk.get(at).is_some_and(|&b| b <= b' ') {
        run(chunk, at)
    } else {
        at
    }
}

/// Whether none of the eight bytes of `word` ends a run of plain string text: no quote, no
/// backslash, no control character, no DEL, nothing past ASCII (SWAR: each test sets a byte's high
/// bit where it holds; the zero-byte test is exact as a yes or no).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn all_plain(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let stops = has_zero(word ^ (ONES * u64::from(b'"'))) | has_zero(word ^ (ONES * u64::from(b'\\'))) | has_zero(word ^ (ONES * 0x7f));
    (stops | below_space | (word & HIGH)) == 0
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
        // An unpaired surrogate reads as U+FFFD, as the shape's evaluator and jq decode it.
        assert_eq!(found(doc, &["/a\"b", "é", "😀", "/x~1y", "\u{fffd}"]), [some("1"), some("2"), some("3"), some("4"), some("5")]);
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
    fn eight_plain_bytes_are_told_apart_from_any_that_ends_a_run() {
        let plain = |bytes: [u8; 8]| bytes.iter().all(|&b| matches!(b, b' '..=b'~') && b != b'"' && b != b'\\');
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut bytes = *b"abcdefgh";
                bytes[at] = b;
                assert_eq!(all_plain(u64::from_le_bytes(bytes)), plain(bytes), "{b:#x} at {at}");
                let mut spaces = [b' '; 8];
                spaces[at] = b;
                assert_eq!(all_plain(u64::from_le_bytes(spaces)), plain(spaces), "{b:#x} at {at} among spaces");
            }
        }
    }

    /// What the scanner makes of `doc` fed in chunks of `size`: the captures, or the error.
    fn scanned(doc: &[u8], wanted: &[&Path], size: usize) -> Result<Vec<Option<Vec<u8>>>, JsonError> {
        let mut scanner = Scanner::new(wanted);
        for chunk in doc.chunks(size) {
            scanner.feed(chunk)?;
        }
        scanner.finish()
    }

    /// Whole tokens (`Scanner::tokens`) and bytes (`Scanner::step`) must agree on every value and
    /// every error: fed whole, the document goes mostly through the first; a byte at a time, every
    /// token longer than a byte goes through the second; split at each offset, through both.
    #[test]
    fn whole_tokens_and_single_bytes_agree() {
        let documents: &[&str] = &[
            r#"{"a":{"b":[1,-2.5e+3,"x",true,{"c":null}],"d":"\u00e9\n"},"e":[{"b":1},{"b":[2]}],"f":0}"#,
            "{\"x\":{\"b\":\"\u{e9}\",\"b\":[{\"a\":1}]},\"a\":{\"b\":\"last\"},\"a\":{\"b\":[ 1 , 2 ]}}",
            r#" [ {"a" : 1 , "e":[ {"b" : "s" } , [ ] , { } ] } , 12 , "a" , null ] "#,
            r#"{"a":{"b":0},"k\u0065y":{"b":1},"e":[[],{"b":{"b":2}},3]}"#,
            r#"{"e":[{"b":1E5},{"b":-0},{"b":0.0e-0}],"a":{"b":"\ud83d\ude00"},"x":{"b":[{"a":"\u00e9"}]}}"#,
            "123",
            " 0 ",
            "-0.5",
            "\"s\"",
            "true",
            "null ",
            "[]",
            "{}",
            // Refused, each where its error is.
            r#"{"a":01}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":{"b":1,}}"#,
            r#"{"a":-}"#,
            r#"{"a":1.}"#,
            r#"{"a":1e}"#,
            r#"{"a":nul}"#,
            r#"{"a":nulll}"#,
            r#"{"x":[1}"#,
            r#"{"x":{]}"#,
            "[1]]",
            "[1],",
            "1 2",
            r#"{"a" 1}"#,
            r#"{"a":"\q"}"#,
            "{\"a\":\"\x01\"}",
            r#"{"x":[tru]}"#,
            r#"{"a":[1 2]}"#,
            "{,}",
            "[,1]",
            r#"{"a":1"#,
            // Text past ASCII, whole tokens too: two, three and four bytes, in keys and values.
            "{\"k\u{e9}y\":{\"b\":\"\u{e9}\u{4e2d}\u{1f600}z\"},\"a\":{\"b\":\"\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}\"}}",
            "[\"\u{e9}\u{7f}\",{\"\u{4e2d}\":[\"\u{1f600}\"]}]",
        ];
        // Ill-formed UTF-8 anywhere in a string is refused, whole or a byte at a time.
        let refused: [&[u8]; 11] = [
            b"[\"\xe0\x80\xaf\"]",
            b"[\"\xf0\x8f\xbf\xbf\"]",
            b"[\"\xe2\x82\xc0\"]",
            b"[\"\xf0\x9f\x98\xff\"]",
            b"[\"\xc0\xaf\"]",
            b"[\"\xed\xa0\x80\"]",
            b"[\"\xf4\x90\x80\x80\"]",
            b"[\"\xe2\x82\"]",
            b"[\"a\xff\"]",
            b"{\"\xc3\":1}",
            b"[\"\xf0\x9f\x98\"]",
        ];
        let wanted = paths(&["a.b", "e", "e.0.b", "f", "x.b.0.a", "", "key.b", "k\u{e9}y.b", "1.\u{4e2d}"]);
        let wanted: Vec<&Path> = wanted.iter().collect();
        for doc in documents.iter().map(|doc| doc.as_bytes()).chain(refused) {
            let whole = scanned(doc, &wanted, doc.len().max(1));
            assert_eq!(scanned(doc, &wanted, 1), whole, "{}", String::from_utf8_lossy(doc));
            for at in 1..doc.len() {
                let mut scanner = Scanner::new(&wanted);
                let (first, second) = doc.split_at(at);
                let split = scanner.feed(first).and_then(|()| scanner.feed(second)).and_then(|()| scanner.finish());
                assert_eq!(split, whole, "{} split at {at}", String::from_utf8_lossy(doc));
            }
            let parsed = serde_json::from_slice::<serde_json::Value>(doc);
            assert_eq!(whole.is_ok(), parsed.is_ok(), "{}", String::from_utf8_lossy(doc));
            assert!(whole.is_ok() || !refused.contains(&doc) || whole.as_ref().is_err_and(|e| e.kind == JsonErrorKind::InvalidUtf8));
        }
        let text = documents.iter().find(|doc| doc.starts_with("{\"k\u{e9}y\"")).unwrap().as_bytes();
        let found = scanned(text, &wanted, text.len()).unwrap();
        assert_eq!(found[7].as_deref(), Some("\"\u{e9}\u{4e2d}\u{1f600}z\"".as_bytes()));
        assert_eq!(found[0].as_deref(), Some("\"\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}\"".as_bytes()));
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
}

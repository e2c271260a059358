//! The path matcher: which of the requested paths can still lead to the value being read, as a
//! bit mask per depth up to the longest path, and the copying of each captured value as the exact
//! byte range of the document, a chunk's range at a time. It builds no tree.

use alloc::vec::Vec;

use super::scanner::{space_run, text_end, Scanner};
use super::skip::skip_value;
use super::string::{encode_utf8, write_string};
use crate::path::Segment;

/// What the scanner knows about one depth of the document, up to the longest path.
#[derive(Clone, Copy, Default)]
pub(super) struct Level {
    /// Paths with at least this many segments, and with exactly this many.
    pub(super) reaching: u64,
    pub(super) ending: u64,
    /// Paths whose segments so far lead to the value now open at this depth.
    pub(super) live: u64,
    /// The index of the current element, when the container at this depth is an array.
    pub(super) index: u32,
}

impl<'p> Scanner<'p> {
    /// A value whose first byte is `first` starts at `chunk[at]`: each path live at its depth
    /// notes its type; the paths that end at its depth start copying it, and the paths that go on
    /// through it forget what they found so far. Both start afresh because a key that occurs twice
    /// in an object yields its last value, whole. A path that ends in `[]` instead adds the value
    /// to the elements it holds, and starts over (`restarted`) when its container does.
    pub(super) fn begin_value(&mut self, at: usize, first: u8) {
        let depth = self.containers.len;
        let in_array = self.containers.top_is_object() == Some(false);
        if in_array {
            self.enter_element(depth);
        }
        let Some(level) = self.levels.get(depth) else { return };
        let (live, ending) = (level.live, level.live & level.ending);
        // The streams whose element starts here as a copy of the members picked, and the
        // selectors whose member's value starts here in such an element.
        let (mut picking, mut picked) = (0, 0);
        let mut bits = live & self.selectors;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let stream = usize::from(self.selector_of.get(i).copied().unwrap_or(0));
            if ending & 1 << i != 0 && self.selecting & 1 << stream != 0 {
                let key = self.segment(i, depth - 1).map_or(&[][..], |segment| segment.key.as_bytes());
                if let (Some(Some(elements)), Some(from)) = (self.captures.get_mut(stream), self.capture_from.get_mut(i)) {
                    // `"key":` (as its text decodes: what the program reads), after a comma
                    // unless first; an escape takes at most six bytes of a key's one.
                    self.out_of_memory |= elements.try_reserve(6 * key.len() + 4).is_err();
                    if !self.out_of_memory {
                        if elements.last() != Some(&b'{') {
                            elements.push(b',');
                        }
                        write_string(elements, key);
                        elements.push(b':');
                        *from = at;
                        picked |= 1 << i;
                    }
                }
            }
        }
        let mut bits = live & !self.selectors;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let (Some(met), Some(capture), Some(from)) = (self.met.get_mut(i), self.captures.get_mut(i), self.capture_from.get_mut(i)) {
                met.truncate(depth);
                met.push(first);
                if ending & 1 << i == 0 {
                    *capture = None;
                    self.restarted |= 1 << i;
                    self.selecting &= !(1 << i);
                    if let Some(ends) = self.ends.get_mut(i) {
                        ends.clear();
                    }
                } else if self.probes & 1 << i != 0 {
                    // A probe notes the type alone.
                } else if self.streams & 1 << i == 0 {
                    // A repeated key's value takes the earlier one's place, in its memory (50
                    // repeats of a 1 MB string kept all 50).
                    capture.get_or_insert_with(Vec::new).clear();
                    *from = at;
                } else if self.capturing & 1 << i == 0 {
                    // An element (an object's member began with its key, in `begin_key`).
                    self.out_of_memory |= !start_element(capture);
                    *from = at;
                    // An object in an array whose stream has selectors: its copy starts empty.
                    let picks = first == b'{' && in_array && self.picked_streams & 1 << i != 0;
                    if picks {
                        if let Some(elements) = capture.as_mut() {
                            self.out_of_memory |= !push_byte(elements, b'{');
                        }
                        picking |= 1 << i;
                    }
                    self.selecting = self.selecting & !(1 << i) | picking & 1 << i;
                }
            }
        }
        self.capturing |= ending & !self.probes & !self.selectors & !picking | picked;
    }

    /// An object element of a stream with selectors (its copy begun by `begin_value`) read in one
    /// pass when all of it is in `chunk` from `chunk[at]`, its keys plain and no other path
    /// reaching inside it: each member's key is compared with the selectors' and its value passed
    /// over whole ([`skip_value`]), the picked ones copied as `"key":value`. Where it ends, for
    /// `end_value`; `None` (the copy as it was) leaves the element to the automaton. The members
    /// one at a time through the hooks were three quarters of the scan of `[.[] | {id, name}]`.
    pub(super) fn pick_members(&mut self, chunk: &[u8], at: usize) -> Option<usize> {
        let depth = self.containers.len;
        let (level, members) = (self.levels.get(depth)?, self.levels.get(depth + 1)?);
        let stream = self.selecting & level.live & level.ending;
        if stream.count_ones() != 1 {
            return None;
        }
        let inside = level.live & members.reaching;
        let i = stream.trailing_zeros() as usize;
        let mut bits = inside;
        while bits != 0 {
            let j = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.selectors & 1 << j == 0 || usize::from(*self.selector_of.get(j)?) != i {
                return None;
            }
        }
        let (paths, captures) = (self.paths, &mut self.captures);
        let elements = captures.get_mut(i)?.as_mut()?;
        let start = elements.len();
        let picked = Self::pick(chunk, at, elements, |key| {
            let mut bits = inside;
            while bits != 0 {
                let j = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if paths.get(j).and_then(|path| path.segments.get(depth)).is_some_and(|segment| segment.key.as_bytes() == key) {
                    return true;
                }
            }
            false
        });
        if picked.is_none() {
            elements.truncate(start);
        }
        picked
    }

    /// `pick_members`' pass over the object at `chunk[at]`: the members `wanted` names appended to
    /// `elements`.
    fn pick(chunk: &[u8], at: usize, elements: &mut Vec<u8>, wanted: impl Fn(&[u8]) -> bool) -> Option<usize> {
        let mut at = space_run(chunk, at + 1);
        if chunk.get(at) == Some(&b'}') {
            return Some(at + 1);
        }
        loop {
            let key_end = text_end(chunk, at + 1);
            if chunk.get(at) != Some(&b'"') || chunk.get(key_end) != Some(&b'"') {
                return None;
            }
            let key = chunk.get(at + 1..key_end)?;
            at = space_run(chunk, key_end + 1);
            if chunk.get(at) != Some(&b':') {
                return None;
            }
            let from = space_run(chunk, at + 1);
            let end = skip_value(chunk, from)?;
            if wanted(key) {
                let value = chunk.get(from..end)?;
                // Fallible, as everywhere a value is copied: what the memory cannot take is left
                // to the automaton, which then meets it as an error.
                elements.try_reserve(key.len() + value.len() + 4).ok()?;
                if elements.last() != Some(&b'{') {
                    elements.push(b',');
                }
                elements.push(b'"');
                elements.extend_from_slice(key);
                elements.extend_from_slice(b"\":");
                elements.extend_from_slice(value);
            }
            at = space_run(chunk, end);
            match chunk.get(at)? {
                b',' => at = space_run(chunk, at + 1),
                b'}' => return Some(at + 1),
                _ => return None,
            }
        }
    }

    /// The value at the current depth ended before `chunk[end]`.
    pub(super) fn end_value(&mut self, chunk: &[u8], end: usize) {
        let at_depth = self.levels.get(self.containers.len).map_or(0, |level| level.ending);
        let ending = at_depth & self.capturing;
        self.copy_captured(ending, chunk, end);
        self.capturing &= !ending;
        // The copies of picked members close here.
        let closing = at_depth & self.selecting;
        self.selecting &= !closing;
        let mut bits = closing;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let Some(Some(elements)) = self.captures.get_mut(i) {
                self.out_of_memory |= !push_byte(elements, b'}');
            }
        }
        let mut bits = (ending | closing) & self.streams;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let (Some(Some(elements)), Some(ends)) = (self.captures.get(i), self.ends.get_mut(i)) {
                self.out_of_memory |= ends.try_reserve(1).is_err();
                if !self.out_of_memory {
                    ends.push(elements.len());
                }
            }
        }
    }

    /// Appends to the values of `paths` their bytes of `chunk` up to `end`.
    pub(super) fn copy_captured(&mut self, paths: u64, chunk: &[u8], end: usize) {
        let mut bits = paths;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // A selector's bytes go to its stream's copy of the element.
            let target = if self.selectors & 1 << i != 0 { usize::from(self.selector_of.get(i).copied().unwrap_or(0)) } else { i };
            if let (Some(Some(capture)), Some(from)) = (self.captures.get_mut(target), self.capture_from.get_mut(i)) {
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
    pub(super) fn enter_element(&mut self, depth: usize) {
        let (Some(parent), Some(level)) = (self.levels.get(depth - 1).copied(), self.levels.get(depth)) else { return };
        let mut bits = parent.live & level.reaching;
        let mut live = 0;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.segment(i, depth - 1).is_some_and(|segment| segment.names_index(parent.index)) {
                live |= 1 << i;
            }
        }
        if let Some(level) = self.levels.get_mut(depth) {
            level.live = live;
        }
    }

    pub(super) fn segment(&self, path: usize, depth: usize) -> Option<&'p Segment> {
        self.paths.get(path)?.segments.get(depth)
    }

    /// A key starts at `chunk[at]`. A stream over an object takes each member whole, `"key":value`:
    /// its elements are joined into the object again at the end, for jq reads a repeated key as
    /// one member (at the first one's place, with the last one's value).
    pub(super) fn begin_key(&mut self, at: usize) {
        let depth = self.containers.len;
        let (reaching, members) = match (self.levels.get(depth - 1), self.levels.get(depth)) {
            (Some(parent), Some(level)) => (parent.live & level.reaching, parent.live & level.ending & self.streams),
            _ => (0, 0),
        };
        self.key_candidates = reaching;
        let mut bits = members;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let (Some(capture), Some(from)) = (self.captures.get_mut(i), self.capture_from.get_mut(i)) {
                self.out_of_memory |= !start_element(capture);
                *from = at;
                self.capturing |= 1 << i;
            }
        }
        self.key_matched = 0;
        self.high_surrogate = None;
    }

    /// One byte of the decoded key: drop the paths whose segment differs at this position.
    pub(super) fn key_byte(&mut self, b: u8) {
        if !self.in_key || self.key_candidates == 0 {
            return;
        }
        if self.high_surrogate.take().is_some() {
            self.unpaired_surrogate();
        }
        self.match_key_byte(b);
    }

    /// An unpaired surrogate escape in a key is U+FFFD, as the evaluator decodes it
    /// (`decode_string`): a path and a program reading the same key must agree.
    fn unpaired_surrogate(&mut self) {
        for b in "\u{fffd}".bytes() {
            self.match_key_byte(b);
        }
    }

    fn match_key_byte(&mut self, b: u8) {
        let depth = self.containers.len - 1;
        let mut bits = self.key_candidates;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if !self.segment(i, depth).is_some_and(|segment| segment.names_key(|key| key.get(self.key_matched) == Some(&b))) {
                self.key_candidates &= !(1 << i);
            }
        }
        self.key_matched += 1;
    }

    /// A key's whole decoded text: drop the paths whose segment differs (then [`Scanner::end_key`]).
    pub(super) fn match_key(&mut self, key: &[u8]) {
        let depth = self.containers.len - 1;
        let mut bits = self.key_candidates;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if !self.segment(i, depth).is_some_and(|segment| segment.names_key(|name| name == key)) {
                self.key_candidates &= !(1 << i);
            }
        }
        self.key_matched = key.len();
    }

    /// One `\uXXXX` code unit of the key, joined with its partner when it is half a surrogate pair.
    pub(super) fn key_unit(&mut self, unit: u16) {
        if !self.in_key || self.key_candidates == 0 {
            return;
        }
        let code_point = match (self.high_surrogate.take(), unit) {
            (Some(high), 0xdc00..=0xdfff) => 0x10000 + ((u32::from(high) - 0xd800) << 10) + (u32::from(unit) - 0xdc00),
            (high, 0xd800..=0xdbff) => {
                if high.is_some() {
                    self.unpaired_surrogate();
                }
                self.high_surrogate = Some(unit);
                return;
            }
            (high, _) => {
                if high.is_some() {
                    self.unpaired_surrogate();
                }
                if (0xdc00..=0xdfff).contains(&unit) {
                    0xfffd
                } else {
                    u32::from(unit)
                }
            }
        };
        let mut utf8 = [0u8; 4];
        for &b in encode_utf8(code_point, &mut utf8) {
            self.match_key_byte(b);
        }
    }

    pub(super) fn end_key(&mut self) {
        if self.high_surrogate.take().is_some() && self.key_candidates != 0 {
            self.unpaired_surrogate();
        }
        let depth = self.containers.len;
        let mut bits = self.key_candidates;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if !self.segment(i, depth - 1).is_some_and(|segment| segment.names_key(|key| key.len() == self.key_matched)) {
                self.key_candidates &= !(1 << i);
            }
        }
        if let Some(level) = self.levels.get_mut(depth) {
            level.live = self.key_candidates;
        }
        self.in_key = false;
    }
}

/// Starts an element of a stream: a comma after the elements held (never a trailing one, so
/// that what is complete is a list); false when the memory cannot take it.
fn start_element(capture: &mut Option<Vec<u8>>) -> bool {
    let elements = capture.get_or_insert_with(Vec::new);
    elements.is_empty() || push_byte(elements, b',')
}

/// Appends `byte` to a stream's list; false when the memory cannot take it.
fn push_byte(list: &mut Vec<u8>, byte: u8) -> bool {
    let room = list.try_reserve(1).is_ok();
    if room {
        list.push(byte);
    }
    room
}

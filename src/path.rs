//! Field paths: where in the upstream's JSON document a requested value lives.
//!
//! Two spellings are accepted. A path that starts with `/` is a JSON Pointer (RFC 6901, with its
//! `~1` for `/` and `~0` for `~`). Any other non-empty path is dotted: `data.items.0.name`. The empty
//! path names the whole document. In both spellings a segment is matched against object keys by
//! its text and against array elements by its value when it is a canonical decimal index (`0`,
//! `17`, not `01`), as RFC 6901 specifies for pointers.

use alloc::string::String;
use alloc::vec::Vec;

use crate::text;

/// One step of a path: an object key, which may also name an array element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The key's text (after pointer unescaping), compared byte for byte with decoded keys.
    pub key: String,
    /// The array index this segment names, when its text is a canonical decimal number.
    pub index: Option<u32>,
    /// Which members the segment names.
    pub names: Names,
}

/// What a segment matches: a field path's segment is a key or an index (RFC 6901), a step of a
/// shape is one or the other (jq's `.a` never reads an array, `.[0]` never an object), and jq's
/// `.[]` is every member of either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Names {
    KeyOrIndex,
    Key,
    Index,
    Every,
}

impl Segment {
    /// Whether the segment names the member with this key.
    pub fn names_key(&self, key_is: impl FnOnce(&[u8]) -> bool) -> bool {
        match self.names {
            Names::Every => true,
            Names::Index => false,
            _ => key_is(self.key.as_bytes()),
        }
    }

    /// Whether the segment names the element at `index`.
    pub fn names_index(&self, index: u32) -> bool {
        match self.names {
            Names::Every => true,
            Names::Key => false,
            _ => self.index == Some(index),
        }
    }
}

/// A parsed path: the segments from the document's root to the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub segments: Vec<Segment>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// A dotted path with an empty segment: `a..b`, `.a` or `a.`.
    EmptySegment,
    /// A JSON Pointer with a `~` not followed by `0` or `1`.
    InvalidPointerEscape,
}

impl PathError {
    pub fn message(self) -> &'static str {
        match self {
            PathError::EmptySegment => "a dotted path has an empty segment",
            PathError::InvalidPointerEscape => "a '~' in a JSON Pointer is not ~0 or ~1",
        }
    }
}

impl Path {
    pub fn parse(spelled: &str) -> Result<Path, PathError> {
        let mut segments = Vec::new();
        if let Some(pointer) = text::strip_ascii_prefix(spelled, b'/') {
            for token in text::split(pointer, b'/') {
                segments.push(Segment::new(unescape_pointer_token(token)?));
            }
        } else if !spelled.is_empty() {
            for part in text::split(spelled, b'.') {
                if part.is_empty() {
                    return Err(PathError::EmptySegment);
                }
                segments.push(Segment::new(String::from(part)));
            }
        }
        Ok(Path { segments })
    }

    /// The last segment's text: the name a field gets when its spec gives none.
    pub fn last_key(&self) -> Option<&str> {
        self.segments.last().map(|segment| segment.key.as_str())
    }
}

impl Segment {
    fn new(key: String) -> Segment {
        let index = canonical_index(key.as_bytes());
        Segment { key, index, names: Names::KeyOrIndex }
    }
}

fn unescape_pointer_token(token: &str) -> Result<String, PathError> {
    let mut out = Vec::with_capacity(token.len());
    let mut bytes = token.bytes();
    while let Some(b) = bytes.next() {
        out.push(if b != b'~' {
            b
        } else {
            match bytes.next() {
                Some(b'0') => b'~',
                Some(b'1') => b'/',
                _ => return Err(PathError::InvalidPointerEscape),
            }
        });
    }
    // SAFETY: only ASCII sequences were replaced by ASCII bytes, so the text is still UTF-8 (a
    // checked conversion would bring its error path along).
    #[allow(unsafe_code)]
    Ok(unsafe { String::from_utf8_unchecked(out) })
}

/// `0` or a digit string without a leading zero that fits in a `u32`.
fn canonical_index(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || (text.len() > 1 && text.first() == Some(&b'0')) {
        return None;
    }
    let mut value: u32 = 0;
    for &b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(path: &Path) -> Vec<&[u8]> {
        path.segments.iter().map(|s| s.key.as_bytes()).collect()
    }

    #[test]
    fn dotted_paths_split_on_dots_and_know_indexes() {
        let path = Path::parse("data.items.0.name").unwrap();
        assert_eq!(keys(&path), [&b"data"[..], b"items", b"0", b"name"]);
        assert_eq!(path.segments[2].index, Some(0));
        assert_eq!(path.segments[0].index, None);
    }

    #[test]
    fn pointers_unescape_tilde_sequences() {
        let path = Path::parse("/a~1b/m~0n/10").unwrap();
        assert_eq!(keys(&path), [&b"a/b"[..], b"m~n", b"10"]);
        assert_eq!(path.segments[2].index, Some(10));
    }

    #[test]
    fn pointer_tokens_may_be_empty_keys() {
        assert_eq!(keys(&Path::parse("/").unwrap()), [&b""[..]]);
        assert_eq!(keys(&Path::parse("/a//b").unwrap()), [&b"a"[..], b"", b"b"]);
    }

    #[test]
    fn empty_path_is_the_whole_document() {
        assert!(Path::parse("").unwrap().segments.is_empty());
    }

    #[test]
    fn leading_zeros_and_huge_numbers_are_keys_only() {
        assert_eq!(Path::parse("a.01").unwrap().segments[1].index, None);
        assert_eq!(Path::parse("a.1234567890").unwrap().segments[1].index, None);
        assert_eq!(Path::parse("a.-1").unwrap().segments[1].index, None);
        assert_eq!(Path::parse("a.999999999").unwrap().segments[1].index, Some(999_999_999));
    }

    #[test]
    fn malformed_paths_are_rejected() {
        assert_eq!(Path::parse("a..b"), Err(PathError::EmptySegment));
        assert_eq!(Path::parse("a."), Err(PathError::EmptySegment));
        assert_eq!(Path::parse(".a"), Err(PathError::EmptySegment));
        assert_eq!(Path::parse("/a~2"), Err(PathError::InvalidPointerEscape));
        assert_eq!(Path::parse("/a~"), Err(PathError::InvalidPointerEscape));
    }
}

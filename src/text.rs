//! Small text helpers that keep `core::fmt`, `str::parse` and the generic `str` pattern searchers
//! (with their panic and formatting paths) out of a component whose budget is 32 KiB: decimal
//! numbers, and splitting on one ASCII byte.

use alloc::string::String;

/// Appends `value` in decimal.
pub fn push_u64(text: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    // u64::MAX has 20 digits, so `start` never leaves the array.
    while let Some(digit) = start.checked_sub(1).and_then(|at| digits.get_mut(at)) {
        *digit = b'0' + (value % 10) as u8;
        start -= 1;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    // SAFETY: ASCII digits keep the string UTF-8.
    #[allow(unsafe_code)]
    unsafe { text.as_mut_vec() }.extend_from_slice(digits.get(start..).unwrap_or(&[]));
}

/// Byte classes for [`all_in`]: which bytes a URL part, a token or a header value may hold.
pub const TOKEN: u8 = 1;
pub const HOST: u8 = 2;
/// Printable ASCII, no space.
pub const VISIBLE: u8 = 4;
/// Space and tab.
pub const BLANK: u8 = 8;
/// Bytes from 0x80 up (UTF-8 beyond ASCII).
pub const HIGH: u8 = 16;
/// What RFC 3986 lets a path or a query hold as it is: unreserved, sub-delims, `:`, `@`, `/`,
/// `?`, and `%` (of an escape already written).
pub const URL_AS_IS: u8 = 32;
/// RFC 3986's unreserved bytes: all a value placed into a URL keeps as it is.
pub const UNRESERVED: u8 = 64;
/// What a placeholder's name is made of: letters, digits, `_` and `-`.
pub const NAME: u8 = 128;

const fn classes_of(b: u8) -> u8 {
    let alphanumeric = b.is_ascii_alphanumeric();
    let token = alphanumeric
        || matches!(b, b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~');
    let host = alphanumeric || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'[' | b']' | b'%');
    let visible = b > b' ' && b < 0x7f;
    let blank = b == b' ' || b == b'\t';
    let url = alphanumeric
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
                | b'?'
                | b'%'
        );
    let unreserved = alphanumeric || matches!(b, b'-' | b'.' | b'_' | b'~');
    let name = alphanumeric || matches!(b, b'-' | b'_');
    (token as u8 * TOKEN)
        | (host as u8 * HOST)
        | (visible as u8 * VISIBLE)
        | (blank as u8 * BLANK)
        | (url as u8 * URL_AS_IS)
        | (unreserved as u8 * UNRESERVED)
        | (name as u8 * NAME)
}

static ASCII_CLASSES: [u8; 128] = {
    let mut table = [0; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = classes_of(b as u8);
        b += 1;
    }
    table
};

/// Whether every byte of `text` is in one of `classes`. One table and one loop serve every check
/// of the configuration, which in wasm is smaller than a closure per check.
pub fn all_in(text: &[u8], classes: u8) -> bool {
    text.iter().all(|&b| ASCII_CLASSES.get(usize::from(b)).map_or(HIGH, |&c| c) & classes != 0)
}

/// Appends `bytes`, each byte outside `keep` as `%XX`: the spelling of a URL part (RFC 3986).
pub fn push_percent_encoded(text: &mut String, bytes: &[u8], keep: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        let escape = [b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
        let spelled: &[u8] = if all_in(&[b], keep) { core::slice::from_ref(&b) } else { &escape };
        // SAFETY: ASCII in, or a whole escape: the string stays UTF-8.
        #[allow(unsafe_code)]
        unsafe { text.as_mut_vec() }.extend_from_slice(spelled);
    }
}

/// A problem worded about a quoted subject: `before`, `subject`, `after`, then `problem`, as in
/// `in "x=a..b": a dotted path has an empty segment` or `"Host" is set by the relay`.
pub fn about(before: &str, subject: &str, after: &str, problem: &str) -> String {
    let mut text = String::from(before);
    text.push_str(subject);
    text.push_str(after);
    text.push_str(problem);
    text
}

/// Parses ASCII digits, with spaces or tabs around them, into a `u64`; `None` for anything else,
/// an empty string or an overflow.
pub fn parse_u64(text: &[u8]) -> Option<u64> {
    let digits = text.trim_ascii();
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |value, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        // Not `checked_mul`: on wasm32 it costs a 128-bit multiplication routine.
        if value > u64::MAX / 10 {
            return None;
        }
        (value * 10).checked_add(u64::from(b - b'0'))
    })
}

/// `bytes` as text when they are UTF-8, checked as `core::str::from_utf8` checks them (no
/// overlong forms, no surrogates, nothing past U+10FFFF) by a plain loop: core's word-at-a-time
/// check, which the wasm build linked for a redirect's `location` alone, cost 452 bytes more.
pub fn utf8(bytes: &[u8]) -> Option<&str> {
    let mut i = 0;
    while let Some(&lead) = bytes.get(i) {
        let (len, min) = match lead {
            0x00..=0x7f => (1, 0),
            0xc2..=0xdf => (2, 0x80),
            0xe0..=0xef => (3, 0x800),
            0xf0..=0xf4 => (4, 0x1_0000),
            _ => return None,
        };
        let mut code_point = u32::from(lead) & (0xff >> (len + 1));
        for k in 1..len {
            let next = *bytes.get(i + k)?;
            if next & 0xc0 != 0x80 {
                return None;
            }
            code_point = code_point << 6 | u32::from(next & 0x3f);
        }
        if code_point < min || (0xd800..=0xdfff).contains(&code_point) || code_point > 0x10_ffff {
            return None;
        }
        i += len;
    }
    // SAFETY: every sequence was checked to be UTF-8 above.
    #[allow(unsafe_code)]
    Some(unsafe { core::str::from_utf8_unchecked(bytes) })
}

/// `text` split at the first `separator` (an ASCII byte), without it.
pub fn split_once(text: &str, separator: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == separator)?;
    split_around_ascii(text, at)
}

/// `text` split before the first ASCII byte that `is_separator` accepts (`None` without one).
pub fn split_before(text: &str, is_separator: impl Fn(u8) -> bool) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b.is_ascii() && is_separator(b))?;
    // SAFETY: an ASCII byte is a whole character, so `at` is a boundary.
    #[allow(unsafe_code)]
    unsafe {
        Some((text.get_unchecked(..at), text.get_unchecked(at..)))
    }
}

/// `text` without its first byte, when that is `first` (an ASCII byte).
pub fn strip_ascii_prefix(text: &str, first: u8) -> Option<&str> {
    if text.as_bytes().first() != Some(&first) {
        return None;
    }
    split_around_ascii(text, 0).map(|(_, rest)| rest)
}

/// `text` without its last byte, when that is `last` (an ASCII byte): `str::strip_suffix` with a
/// `char` is generic over its pattern and encodes the char first.
pub fn strip_ascii_suffix(text: &str, last: u8) -> Option<&str> {
    if text.as_bytes().last() != Some(&last) {
        return None;
    }
    split_around_ascii(text, text.len() - 1).map(|(head, _)| head)
}

/// The text before and after byte `at`, dropping it; `None` unless it is ASCII. `str::split_at`
/// would check the boundaries again, with a panic path that formats the string.
fn split_around_ascii(text: &str, at: usize) -> Option<(&str, &str)> {
    if !text.as_bytes().get(at)?.is_ascii() {
        return None;
    }
    // SAFETY: an ASCII byte is a whole character, so `at` and `at + 1` are boundaries.
    #[allow(unsafe_code)]
    unsafe {
        Some((text.get_unchecked(..at), text.get_unchecked(at + 1..)))
    }
}

/// `text` split at every `separator` (an ASCII byte): `"a,,b"` gives `a`, ``, `b`.
pub fn split(text: &str, separator: u8) -> Split<'_> {
    Split { rest: Some(text), separator }
}

pub struct Split<'a> {
    rest: Option<&'a str>,
    separator: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match split_once(rest, self.separator) {
            Some((head, tail)) => {
                self.rest = Some(tail);
                Some(head)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_decimal() {
        for (value, text) in [(0, "0"), (7, "7"), (1048576, "1048576"), (u64::MAX, "18446744073709551615")] {
            let mut out = String::new();
            push_u64(&mut out, value);
            assert_eq!(out, text);
        }
    }

    #[test]
    fn splitting_on_a_byte() {
        assert_eq!(split_once("a=b=c", b'='), Some(("a", "b=c")));
        assert_eq!(split_once("é=ü", b'='), Some(("é", "ü")));
        assert_eq!(split_once("abc", b'='), None);
        let parts: alloc::vec::Vec<&str> = split("a,,b,", b',').collect();
        assert_eq!(parts, ["a", "", "b", ""]);
        assert_eq!(split("", b',').collect::<alloc::vec::Vec<_>>(), [""]);
    }

    #[test]
    fn utf8_is_checked_as_core_checks_it() {
        let agrees = |bytes: &[u8]| assert_eq!(utf8(bytes), core::str::from_utf8(bytes).ok(), "{bytes:x?}");
        for a in 0..=255u8 {
            agrees(&[a]);
            for b in 0..=255u8 {
                agrees(&[a, b]);
                agrees(&[b'x', a, b]);
            }
        }
        // Three and four bytes: every lead with the continuations at the edges of the ranges.
        let edges = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff];
        for lead in 0xc0..=0xffu8 {
            for b in edges {
                for c in edges {
                    agrees(&[lead, b, c]);
                    for d in edges {
                        agrees(&[lead, b, c, d]);
                    }
                }
            }
        }
        agrees("caf\u{e9} \u{10ffff} \u{fffd}".as_bytes());
    }

    #[test]
    fn byte_classes() {
        assert!(all_in(b"X-Api_Key.1~!", TOKEN));
        assert!(!all_in(b"a b", TOKEN) && !all_in(b"a:b", TOKEN) && !all_in("\u{e9}".as_bytes(), TOKEN));
        assert!(all_in(b"[::1]:80", HOST) && all_in(b"api.example.com", HOST));
        assert!(!all_in(b"a/b", HOST) && !all_in(b"a@b", HOST));
        assert!(all_in("/a?b=\u{e9}".as_bytes(), VISIBLE | HIGH));
        assert!(!all_in(b"/a b", VISIBLE | HIGH) && !all_in(b"\x7f", VISIBLE | HIGH));
        assert!(all_in(b"Bearer a\tb", VISIBLE | BLANK));
        assert!(!all_in(b"a\r\nb", VISIBLE | BLANK | HIGH) && !all_in(b"\0", VISIBLE | BLANK | HIGH));
        assert!(all_in(b"/a-b._~!$&'()*+,;=:@?%", URL_AS_IS) && !all_in(b"\"", URL_AS_IS) && !all_in(b"#", URL_AS_IS));
    }

    #[test]
    fn url_parts_are_percent_encoded() {
        let mut out = String::new();
        push_percent_encoded(&mut out, "/\u{e9}/a\"b c/%41?x=[1]".as_bytes(), URL_AS_IS);
        assert_eq!(out, "/%C3%A9/a%22b%20c/%41?x=%5B1%5D");
    }

    #[test]
    fn numbers_are_read_strictly() {
        assert_eq!(parse_u64(b" 1048576 "), Some(1_048_576));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        for bad in [&b""[..], b" ", b"-1", b"+1", b"1.5", b"1e3", b"0x10", b"1 2"] {
            assert_eq!(parse_u64(bad), None, "{:?}", bad);
        }
    }
}

//! The string codec: JSON string literals written (escaped) and read back (decoded).

use alloc::vec::Vec;

pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The UTF-8 bytes of `code_point`, none for a surrogate or past U+10FFFF. Written out: core's
/// `char::encode_utf8` cost 51 bytes more (a test holds the two equal on every code point).
pub(super) fn encode_utf8(code_point: u32, buffer: &mut [u8; 4]) -> &[u8] {
    let c = code_point;
    let length = match c {
        0..=0x7f => {
            buffer[0] = c as u8;
            1
        }
        0x80..=0x7ff => {
            buffer[0] = 0xc0 | (c >> 6) as u8;
            buffer[1] = 0x80 | (c & 0x3f) as u8;
            2
        }
        0xd800..=0xdfff => 0,
        0x800..=0xffff => {
            buffer[0] = 0xe0 | (c >> 12) as u8;
            buffer[1] = 0x80 | (c >> 6 & 0x3f) as u8;
            buffer[2] = 0x80 | (c & 0x3f) as u8;
            3
        }
        0x10000..=0x10ffff => {
            buffer[0] = 0xf0 | (c >> 18) as u8;
            buffer[1] = 0x80 | (c >> 12 & 0x3f) as u8;
            buffer[2] = 0x80 | (c >> 6 & 0x3f) as u8;
            buffer[3] = 0x80 | (c & 0x3f) as u8;
            4
        }
        _ => 0,
    };
    &buffer[..length]
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
    // The text between escapes is copied a run at a time: a byte at a time, each a call to push,
    // was 5% of `[.[] | {id, name}]` (its keys are written for each element).
    for run in text.split_inclusive(|&b| matches!(b, 0x00..=0x1f | b'"' | b'\\' | 0x7f)) {
        let Some((&b, plain)) = run.split_last() else { continue };
        out.extend_from_slice(plain);
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

/// Takes the whitespace between the tokens of the JSON text `text` out, in place, as `jq -c`
/// prints values: a value copied whole keeps the document's own (a pretty-printed document's
/// newlines would spread one of the command's outputs over several lines).
pub fn compact(text: &mut Vec<u8>) {
    let (mut kept, mut in_string, mut escaped) = (0, false, false);
    for at in 0..text.len() {
        let Some(&b) = text.get(at) else { break };
        if in_string {
            in_string = escaped || b != b'"';
            escaped = !escaped && b == b'\\';
        } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            continue;
        } else {
            in_string = b == b'"';
        }
        if let Some(slot) = text.get_mut(kept) {
            *slot = b;
        }
        kept += 1;
    }
    text.truncate(kept);
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
    use crate::json::validate;

    #[test]
    fn every_code_point_is_encoded_as_core_encodes_it() {
        for code_point in 0..=0x11_0000u32 {
            let mut buffer = [0u8; 4];
            let mut expected = [0u8; 4];
            let core = char::from_u32(code_point).map_or(&[][..], |c| c.encode_utf8(&mut expected).as_bytes());
            assert_eq!(encode_utf8(code_point, &mut buffer), core, "{code_point:#x}");
        }
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

    #[test]
    fn compacting_takes_out_the_whitespace_between_tokens_only() {
        let compacted = |text: &str| {
            let mut text = Vec::from(text.as_bytes());
            compact(&mut text);
            String::from_utf8(text).unwrap()
        };
        assert_eq!(compacted("{\n  \"a b\" : [ 1 ,\t2 ],\r\n \"c\": \" x \\\" y \\\\\" }"), r#"{"a b":[1,2],"c":" x \" y \\"}"#);
        assert_eq!(compacted("\"\\\\\" , \"\\\"\" "), r#""\\","\"""#);
        // Already compact: unchanged, strings' own spaces included.
        for text in [r#"{"a":[1,2,{"b":"c d"}]}"#, r#"" \" ""#, "[]", "1.0e+2", r#"["\\",{" ":" "}]"#] {
            assert_eq!(compacted(text), text);
        }
    }
}

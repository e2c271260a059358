//! Passing over a value no path reaches: checked against the whole grammar in one tight loop and
//! passed over without the automaton's state or the matcher's hooks (most of a document, for a
//! program that reads a few members of each element). Anything this loop does not take (a value
//! that goes on past the chunk, an error, nesting past 64) is left to the automaton from the
//! value's first byte, which then meets it as before: so the errors, their offsets and every
//! chunk boundary stay the automaton's.

use super::scanner::{scalar_end, space_run, text_end};

/// The most non-empty containers open at once passed over here: one bit each in a `u64`.
const MAX_DEPTH: u32 = 64;

/// Where the value starting at `chunk[at]` ends, when all of it is in `chunk`, is well formed
/// JSON and has at most [`MAX_DEPTH`] non-empty containers open at once.
pub(super) fn skip_value(chunk: &[u8], mut at: usize) -> Option<usize> {
    // Bit 0 is the innermost open container: set for an object.
    let (mut objects, mut depth) = (0u64, 0u32);
    loop {
        // A value is due at `at`.
        at = space_run(chunk, at);
        at = match *chunk.get(at)? {
            b @ (b'{' | b'[') => {
                let (is_object, close) = if b == b'{' { (true, b'}') } else { (false, b']') };
                at = space_run(chunk, at + 1);
                if chunk.get(at) == Some(&close) {
                    at + 1
                } else {
                    if depth == MAX_DEPTH {
                        return None;
                    }
                    (objects, depth) = (objects << 1 | u64::from(is_object), depth + 1);
                    if is_object {
                        at = member_key(chunk, at)?;
                    }
                    continue;
                }
            }
            b'"' => string_end(chunk, at)?,
            _ => scalar_end(chunk, at)?,
        };
        // After a value: the containers it ends, up to the next one due.
        loop {
            if depth == 0 {
                return Some(at);
            }
            at = space_run(chunk, at);
            let is_object = objects & 1 != 0;
            match *chunk.get(at)? {
                b',' if is_object => {
                    at = member_key(chunk, at + 1)?;
                    break;
                }
                b',' => {
                    at += 1;
                    break;
                }
                b'}' if is_object => {}
                b']' if !is_object => {}
                _ => return None,
            }
            (objects, depth, at) = (objects >> 1, depth - 1, at + 1);
        }
    }
}

/// Past `"key":` (and the whitespace around it) from `chunk[at]`.
fn member_key(chunk: &[u8], at: usize) -> Option<usize> {
    let at = space_run(chunk, at);
    if chunk.get(at) != Some(&b'"') {
        return None;
    }
    let at = space_run(chunk, string_end(chunk, at)?);
    (chunk.get(at) == Some(&b':')).then_some(at + 1)
}

/// Past the string literal whose quote is `chunk[at]`: its escapes checked, its text as
/// [`text_end`] takes it.
fn string_end(chunk: &[u8], mut at: usize) -> Option<usize> {
    at += 1;
    loop {
        at = text_end(chunk, at);
        at += match *chunk.get(at)? {
            b'"' => return Some(at + 1),
            0x7f => 1,
            b'\\' => match *chunk.get(at + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                b'u' if chunk.get(at + 2..at + 6)?.iter().all(u8::is_ascii_hexdigit) => 6,
                _ => return None,
            },
            // A control character, or ill-formed UTF-8.
            _ => return None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skipped(text: &str) -> Option<usize> {
        skip_value(text.as_bytes(), 0)
    }

    #[test]
    fn whole_values_are_passed_over_to_their_end() {
        for value in [
            "\"\"",
            "[]",
            "{}",
            " { \"a\" : [ 1 , -2.5e+3 , \"x\\u00e9\\n\" , true , false , null , { } , [ ] ] , \"b\" : { \"c\" : \"\u{e9}\u{1f600}\u{7f}\" } } ",
            "[[[[[[]]]]]]",
            "{\"a\":{\"b\":{\"c\":[{}]}}}",
        ] {
            let end = text_end_of(value);
            assert_eq!(skipped(value), Some(end), "{value}");
            // What follows the value is the caller's.
            assert_eq!(skip_value(format!("{value},1").as_bytes(), 0), Some(end), "{value}");
        }
    }

    /// Where the value of `text` ends: its length without trailing whitespace.
    fn text_end_of(text: &str) -> usize {
        text.trim_end().len()
    }

    #[test]
    fn what_is_not_whole_or_not_json_is_left_to_the_automaton() {
        for value in [
            // Ends with the chunk: a number may go on, a container is still open.
            "0",
            "12",
            "[1",
            "{\"a\":1",
            "{\"a\"",
            "\"abc",
            "tru",
            // Errors.
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "[1}",
            "{\"a\":1]",
            "[01]",
            "-,",
            "1.,",
            "1e,",
            "\"\\q\"",
            "\"\\u12g4\"",
            "\"\x01\"",
            "[,1]",
            "nul,",
            "]",
        ] {
            assert_eq!(skipped(value), None, "{value:?}");
        }
        assert_eq!(skip_value(b"\"\xed\xa0\x80\"", 0), None);
        assert_eq!(skip_value(b"[\"\xc3\"]", 0), None);
        // Past 64 open containers (an empty one opens none), the automaton's heap-held stack
        // takes over.
        let deep = "[".repeat(66) + &"]".repeat(66);
        assert_eq!(skipped(&deep), None);
        let deep = "[".repeat(65) + &"]".repeat(65);
        assert_eq!(skipped(&deep), Some(130));
    }
}

//! The grammar as data: the byte classes JSON tells apart and the transition table over them
//! (Douglas Crockford's JSON_checker design), which is smaller in wasm than the same rules written
//! as `match`es. The scanner ([`super::scanner`]) runs it; what a table cannot hold (the container
//! stack, UTF-8 sequences, the paths) is code there.

// Character classes: the bytes the grammar tells apart. `\t`, `\n` and `\r` are whitespace
// between tokens but control characters inside strings, so they are not `C_SPACE`.
pub(super) const C_CTRL: u8 = 0;
pub(super) const C_SPACE: u8 = 1;
pub(super) const C_WHITE: u8 = 2;
pub(super) const C_LCURB: u8 = 3;
pub(super) const C_RCURB: u8 = 4;
pub(super) const C_LSQRB: u8 = 5;
pub(super) const C_RSQRB: u8 = 6;
pub(super) const C_COLON: u8 = 7;
pub(super) const C_COMMA: u8 = 8;
pub(super) const C_QUOTE: u8 = 9;
pub(super) const C_BACKS: u8 = 10;
pub(super) const C_SLASH: u8 = 11;
pub(super) const C_PLUS: u8 = 12;
pub(super) const C_MINUS: u8 = 13;
pub(super) const C_POINT: u8 = 14;
pub(super) const C_ZERO: u8 = 15;
pub(super) const C_DIGIT: u8 = 16;
// The letters that start a literal or an escape, or are hex digits or an exponent; the rest of
// `true`, `false` and `null` is checked apart from the table.
pub(super) const C_LOW_B: u8 = 17;
pub(super) const C_LOW_E: u8 = 18;
pub(super) const C_LOW_F: u8 = 19;
pub(super) const C_LOW_N: u8 = 20;
pub(super) const C_LOW_R: u8 = 21;
pub(super) const C_LOW_T: u8 = 22;
pub(super) const C_LOW_U: u8 = 23;
/// The other hex digits: `a`, `c`, `d`, `A`-`D`, `F`.
pub(super) const C_HEX: u8 = 24;
pub(super) const C_UP_E: u8 = 25;
/// Any other ASCII character.
pub(super) const C_ETC: u8 = 26;
/// A byte of a multi-byte UTF-8 character, checked apart from the table.
pub(super) const C_HIGH: u8 = 27;
pub(super) const CLASSES: usize = 28;

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
pub(super) static CLASS: [u8; 128] = {
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
pub(super) const VA: u8 = 0;
/// After `[`: a value or `]`.
pub(super) const AR: u8 = 1;
/// After `{`: a key or `}`.
pub(super) const OB: u8 = 2;
/// After `,` in an object: a key.
pub(super) const KE: u8 = 3;
/// After a key: `:`.
pub(super) const CO: u8 = 4;
/// After a value: `,` or a closing bracket inside a container, nothing more at the root.
pub(super) const OK: u8 = 5;
/// In a string, after `\`, inside a `\uXXXX` escape (its digits counted in [`super::Scanner::unit`]).
pub(super) const ST: u8 = 6;
pub(super) const ES: u8 = 7;
pub(super) const UX: u8 = 8;
/// A number: after `-`, `0`, other integer digits, `.`, fraction digits, `e`, its sign, its digits.
pub(super) const MI: u8 = 9;
pub(super) const ZE: u8 = 10;
pub(super) const IN: u8 = 11;
pub(super) const FR: u8 = 12;
pub(super) const FS: u8 = 13;
pub(super) const E1: u8 = 14;
pub(super) const E2: u8 = 15;
pub(super) const E3: u8 = 16;
/// Inside `true`, `false` or `null`: [`super::Scanner::literal`] holds the letters still due (a row per
/// letter would cost the table 9 rows).
pub(super) const LI: u8 = 17;
pub(super) const STATES: usize = 18;

// What the table answers besides a next state: the bytes that move through the container stack
// or the path, which the scanner handles in code.
pub(super) const OPEN_OBJECT: u8 = 0xf0;
pub(super) const OPEN_ARRAY: u8 = 0xf1;
pub(super) const CLOSE_OBJECT: u8 = 0xf2;
pub(super) const CLOSE_ARRAY: u8 = 0xf3;
pub(super) const COMMA: u8 = 0xf4;
pub(super) const COLON: u8 = 0xf5;
/// A quote: a string value or a key starts, or a string ends.
pub(super) const QUOTE: u8 = 0xf6;
pub(super) const ERROR: u8 = 0xff;

/// The grammar of RFC 8259 as `TRANSITIONS[state][class]`, after Douglas Crockford's JSON_checker.
pub(super) static TRANSITIONS: [[u8; CLASSES]; STATES] = {
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

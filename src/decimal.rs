//! Decimal numbers in text, without `core::fmt` or `str::parse` (which bring in the formatting
//! machinery a 32 KiB component cannot afford).

use alloc::string::String;

/// Appends `value` in decimal.
pub fn push_u64(text: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for &d in digits.get(start..).unwrap_or(&[]) {
        text.push(char::from(d));
    }
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
        value.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
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
    fn numbers_are_read_strictly() {
        assert_eq!(parse_u64(b" 1048576 "), Some(1_048_576));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        for bad in [&b""[..], b" ", b"-1", b"+1", b"1.5", b"1e3", b"0x10", b"1 2"] {
            assert_eq!(parse_u64(bad), None, "{:?}", bad);
        }
    }
}

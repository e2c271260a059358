//! Feasibility benchmark: how fast does a simdjson-style "stage 1" structural
//! index run as WebAssembly (wasm32-wasip2 + SIMD128) under wasmtime?
//!
//! Run by `bench/simd-index` (docs/v2-budget.md says what its figures mean for issue 12):
//! Build:  RUSTFLAGS="-Ctarget-feature=+simd128" cargo build --release --target wasm32-wasip2
//! Run:    wasmtime run --dir DIR::/data simd-index.wasm MODE /data/doc.json
//!
//! Modes (each but `read64k` reads the whole file with std::fs::read, then
//! times one warm-up pass and one measured pass over the in-memory buffer):
//! - `baseline`: count `"` bytes with a plain byte loop (the floor; LLVM
//!   auto-vectorises it), then with explicit SIMD (one trivial pass).
//! - `stage1`: structural index, bitmasks per 64-byte block -> Vec<u32> positions.
//! - `stage1+utf8`: stage1 + UTF-8 validation + "no raw control char inside a string".
//! - `walk`: stage1+utf8, then "stage 2 lite": grammar/depth check over the index.
//! - `walk-fused`: the same two stages fused per 64 KiB chunk with one reused,
//!   cache-resident index buffer (how a streaming scanner runs them).
//! - `read64k`: only read the file in 64 KiB chunks into a reused buffer (the
//!   I/O a streaming scanner pays), with a SIMD quote count.
//! - `selftest`: compare the SIMD index against a scalar reference (crafted,
//!   random, and the first 10 MB of the file), the UTF-8 check against std,
//!   and stage 2 lite on valid/invalid snippets and on the whole file.
//!
//! Index semantics (identical in the SIMD and the reference implementations):
//! - a byte is *escaped* if it follows an odd-length run of backslashes (runs
//!   are computed everywhere, not only inside strings, as simdjson does);
//! - an unescaped `"` toggles the in-string state; the in-string mask covers
//!   the opening quote and the string body, not the closing quote;
//! - structural = (`{}[]:,` outside strings)
//!   | (every unescaped quote, opening AND closing: simdjson keeps only the
//!   opening ones, we keep both so stage 2 gets string extents without rescanning)
//!   | (the first byte of a scalar: a byte outside strings that is not
//!   whitespace/op/quote and follows op/whitespace/quote, or is the first byte).
//!
//! Note: the op classification uses simdjson's nibble-lookup trick
//! (`byte | 0x20 == table[byte & 15]`), which also classifies the control
//! characters 0x0C and 0x1A as `,` and `:`. Those bytes are invalid outside
//! strings anyway (stage 2 rejects them: it looks at the real byte).

use core::arch::wasm32::*;
use std::time::Instant;

// ---------------------------------------------------------------------------
// Baselines: one trivial pass over the buffer
// ---------------------------------------------------------------------------

/// Plain byte loop. LLVM may auto-vectorise it (simd128 is enabled), which is
/// fine: it is the cost of one trivial pass over the buffer.
fn count_quotes(buf: &[u8]) -> u64 {
    let mut n = 0u64;
    for &b in buf {
        n += (b == b'"') as u64;
    }
    n
}

/// The same count with explicit SIMD (compare + bitmask + popcount per 16
/// bytes): the cost of a trivial vectorised pass, i.e. the ceiling for stage 1.
fn count_quotes_simd(buf: &[u8]) -> u64 {
    let q = u8x16_splat(b'"');
    let chunks = buf.chunks_exact(16);
    let tail = count_quotes(chunks.remainder());
    let mut n = 0u64;
    for c in chunks {
        // SAFETY: `c` is a 16-byte chunk; v128_load takes unaligned addresses.
        let v = unsafe { v128_load(c.as_ptr() as *const v128) };
        n += u8x16_bitmask(u8x16_eq(v, q)).count_ones() as u64;
    }
    n + tail
}

// ---------------------------------------------------------------------------
// Stage 1 (SIMD)
// ---------------------------------------------------------------------------

/// Extra u32 slots after the last possible index: flatten writes 8/16 entries
/// unconditionally (branch-free) and relies on this slack.
const SLACK: usize = 80;

/// Classification bitmasks of one 64-byte block (bit i = byte i).
struct Masks {
    backslash: u64,
    quote: u64,
    op: u64,      // { } [ ] : ,
    ws: u64,      // space \t \n \r
    high: u64,    // bytes >= 0x80 (non-ASCII)
    control: u64, // bytes < 0x20
}

/// Whitespace lookup by low nibble: table[c & 15] == c only for ' ', \t, \n, \r.
/// The filler values have a low nibble different from their index, so no
/// other byte can match (simdjson's table).
const WS_TABLE: [u8; 16] = [b' ', 100, 100, 100, 17, 100, 113, 2, 100, b'\t', b'\n', 112, 100, b'\r', 100, 100];
/// Operator lookup by low nibble, compared with `c | 0x20`, which folds
/// `[`/`]` (0x5B/0x5D) onto `{`/`}` (0x7B/0x7D).
const OP_TABLE: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b':', b'{', b',', b'}', 0, 0];

#[inline(always)]
fn mask16(v: v128) -> u64 {
    u8x16_bitmask(v) as u64
}

/// Load 64 bytes as 4 v128 and build all bitmasks.
/// Safety: `p` must point to 64 readable bytes.
#[inline(always)]
unsafe fn classify(p: *const u8) -> Masks {
    // SAFETY: the tables are 16 bytes each; v128_load takes unaligned addresses.
    let ws_t = unsafe { v128_load(WS_TABLE.as_ptr() as *const v128) };
    // SAFETY: as above.
    let op_t = unsafe { v128_load(OP_TABLE.as_ptr() as *const v128) };
    let mut m = Masks { backslash: 0, quote: 0, op: 0, ws: 0, high: 0, control: 0 };
    for k in 0..4 {
        // SAFETY: the caller gives 64 readable bytes at `p`; this reads bytes 16k..16k+16 of them.
        let v = unsafe { v128_load(p.add(16 * k) as *const v128) };
        let sh = 16 * k as u32;
        // Low nibble as swizzle index (swizzle zeroes lanes whose index is >= 16,
        // so we must mask, unlike x86 pshufb).
        let lo = v128_and(v, u8x16_splat(0x0f));
        let ws = u8x16_eq(v, u8x16_swizzle(ws_t, lo));
        let op = u8x16_eq(v128_or(v, u8x16_splat(0x20)), u8x16_swizzle(op_t, lo));
        m.backslash |= mask16(u8x16_eq(v, u8x16_splat(b'\\'))) << sh;
        m.quote |= mask16(u8x16_eq(v, u8x16_splat(b'"'))) << sh;
        m.ws |= mask16(ws) << sh;
        m.op |= mask16(op) << sh;
        // The sign bit of each byte is exactly "byte >= 0x80".
        m.high |= mask16(v) << sh;
        m.control |= mask16(u8x16_lt(v, u8x16_splat(0x20))) << sh;
    }
    m
}

/// Inclusive prefix XOR: bit i = XOR of bits 0..=i. wasm has no carry-less
/// multiply (simdjson uses pclmulqdq(x, ~0)), so use the log-step shift ladder.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

const ODD_BITS: u64 = 0xAAAA_AAAA_AAAA_AAAA;

/// State carried from one 64-byte block to the next.
struct Stage1 {
    /// 1 if the previous block ended with an odd backslash run (so byte 0 is escaped).
    next_is_escaped: u64,
    /// All ones if the previous block ended inside a string.
    prev_in_string: u64,
    /// 1 if the last byte of the previous block was op/ws/quote (or we are at
    /// the start of the document), i.e. byte 0 may start a scalar.
    prev_pred: u64,
    /// Accumulated error bits: raw control characters inside strings.
    control_err: u64,
    /// UTF-8 DFA state at the block boundary (0 = between characters).
    utf8_state: u8,
    utf8_err: bool,
    out: *mut u32,
    n: usize,
}

impl Stage1 {
    /// Bits of bytes escaped by a preceding odd-length backslash run
    /// (simdjson's branch-light formulation). Adding/subtracting the run
    /// starts ripples a carry through each run; comparing with the odd/even
    /// bit pattern tells whether the run length is odd.
    #[inline(always)]
    fn escaped(&mut self, backslash: u64) -> u64 {
        if backslash == 0 {
            let e = self.next_is_escaped;
            self.next_is_escaped = 0;
            return e;
        }
        // A backslash that is itself escaped (by the previous block) starts nothing.
        let potential_escape = backslash & !self.next_is_escaped;
        let maybe_escaped = potential_escape << 1;
        let maybe_escaped_and_odd_bits = maybe_escaped | ODD_BITS;
        let even_series_codes_and_odd_bits = maybe_escaped_and_odd_bits.wrapping_sub(potential_escape);
        let escape_and_terminal_code = even_series_codes_and_odd_bits ^ ODD_BITS;
        let escaped = escape_and_terminal_code ^ (backslash | self.next_is_escaped);
        let escape = escape_and_terminal_code & backslash;
        self.next_is_escaped = escape >> 63;
        escaped
    }

    /// Append base+i for every set bit i (simdjson's flatten). Writes 8 (then
    /// 16) entries unconditionally to avoid a data-dependent branch per bit;
    /// the overshoot lands in the slack and is overwritten later.
    #[inline(always)]
    unsafe fn flatten(&mut self, base: u32, mut bits: u64) {
        if bits == 0 {
            return;
        }
        let cnt = bits.count_ones() as usize;
        // SAFETY: `run` reserved room for a position per byte plus SLACK past `self.n`.
        let p = unsafe { self.out.add(self.n) };
        for k in 0..8 {
            // SAFETY: at most 64 positions a block, all within the room `run` reserved (SLACK covers the overshoot).
            unsafe { *p.add(k) = base + bits.trailing_zeros() };
            bits &= bits.wrapping_sub(1);
        }
        if cnt > 8 {
            for k in 8..16 {
                // SAFETY: as above.
                unsafe { *p.add(k) = base + bits.trailing_zeros() };
                bits &= bits.wrapping_sub(1);
            }
            let mut k = 16;
            while bits != 0 {
                // SAFETY: as above.
                unsafe { *p.add(k) = base + bits.trailing_zeros() };
                bits &= bits.wrapping_sub(1);
                k += 1;
            }
        }
        self.n += cnt;
    }

    /// Process one 64-byte block starting at document offset `base`.
    #[inline(always)]
    unsafe fn block<const VALIDATE: bool>(&mut self, p: *const u8, base: u32) {
        // SAFETY: the caller gives 64 readable bytes at `p`.
        let m = unsafe { classify(p) };

        // 1. Unescaped quotes.
        let escaped = self.escaped(m.backslash);
        let quote = m.quote & !escaped;

        // 2. In-string mask: prefix XOR of quotes, flipped if we entered the
        //    block inside a string; carry = sign of the last bit.
        let in_string = prefix_xor(quote) ^ self.prev_in_string;
        self.prev_in_string = ((in_string as i64) >> 63) as u64;

        // 3. Scalar starts: non-op/ws/quote bytes outside strings whose
        //    predecessor is op/ws/quote. The predecessor mask is shifted by
        //    one with the carry from the previous block.
        let pred = m.op | m.ws | quote;
        let follows_pred = (pred << 1) | self.prev_pred;
        self.prev_pred = pred >> 63;
        let outside = !in_string;
        let scalar_start = !pred & outside & follows_pred;

        // 4. Structural = ops outside strings | all unescaped quotes | scalar starts.
        let structural = (m.op & outside) | quote | scalar_start;
        // SAFETY: `run` reserved room for this block's positions.
        unsafe { self.flatten(base, structural) };

        if VALIDATE {
            // JSON forbids raw control characters inside strings. The string
            // body is in_string minus the opening quote (which is not < 0x20).
            self.control_err |= m.control & in_string;
            // UTF-8: fast path when the block is ASCII and no multi-byte
            // character is pending from the previous block.
            if m.high != 0 || self.utf8_state != 0 {
                // SAFETY: `p` points to the 64 bytes of this block.
                unsafe { self.utf8_block(p, m.high) };
            }
        }
    }

    /// Scalar UTF-8 check of one block, visiting only non-ASCII bytes (and
    /// the continuation bytes of a character begun in the previous block).
    #[cold]
    #[inline(never)]
    unsafe fn utf8_block(&mut self, p: *const u8, high: u64) {
        let mut st = self.utf8_state;
        let mut i = if st != 0 { 0 } else { high.trailing_zeros() };
        while i < 64 {
            // SAFETY: `i` < 64, inside the block at `p`.
            st = utf8_step(st, unsafe { *p.add(i as usize) });
            i += 1;
            if st == UTF8_ERR {
                self.utf8_err = true;
                st = 0;
            }
            if st == 0 {
                // Between characters: skip the ASCII run to the next high byte.
                let rest = if i >= 64 { 0 } else { (high >> i) << i };
                if rest == 0 {
                    break;
                }
                i = rest.trailing_zeros();
            }
        }
        self.utf8_state = st;
    }
}

const UTF8_ERR: u8 = 0xFF;

/// One step of a UTF-8 DFA (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
/// States: 0 ground; 1/2/3 = that many continuation bytes (80..BF) left;
/// 4 after E0 (next A0..BF); 5 after ED (next 80..9F); 6 after F0 (next 90..BF);
/// 7 after F4 (next 80..8F).
#[inline(always)]
fn utf8_step(st: u8, b: u8) -> u8 {
    let in_range = |lo: u8, hi: u8, next: u8| if b >= lo && b <= hi { next } else { UTF8_ERR };
    match st {
        0 => match b {
            0x00..=0x7F => 0,
            0xC2..=0xDF => 1,
            0xE0 => 4,
            0xE1..=0xEC | 0xEE..=0xEF => 2,
            0xED => 5,
            0xF0 => 6,
            0xF1..=0xF3 => 3,
            0xF4 => 7,
            _ => UTF8_ERR,
        },
        1 => in_range(0x80, 0xBF, 0),
        2 => in_range(0x80, 0xBF, 1),
        3 => in_range(0x80, 0xBF, 2),
        4 => in_range(0xA0, 0xBF, 1),
        5 => in_range(0x80, 0x9F, 1),
        6 => in_range(0x90, 0xBF, 2),
        7 => in_range(0x80, 0x8F, 2),
        _ => UTF8_ERR,
    }
}

// Driving stage 1 over a buffer, possibly in chunks.
impl Stage1 {
    fn new() -> Self {
        Stage1 {
            next_is_escaped: 0,
            prev_in_string: 0,
            prev_pred: 1, // the first byte of the document may start a scalar
            control_err: 0,
            utf8_state: 0,
            utf8_err: false,
            out: core::ptr::null_mut(),
            n: 0,
        }
    }

    /// Index `buf[from..to]` and append the positions to `out`. `from` must
    /// be a multiple of 64 and `to` a multiple of 64 or `buf.len()`; calls must
    /// cover the buffer in order (the carries live in `self`).
    fn run<const VALIDATE: bool>(&mut self, buf: &[u8], from: usize, to: usize, out: &mut Vec<u32>) {
        assert!(buf.len() < u32::MAX as usize - 64 && from.is_multiple_of(64) && to <= buf.len() && from <= to);
        out.reserve(to - from + SLACK);
        self.out = out.as_mut_ptr();
        self.n = out.len();
        let full_end = from + (to - from) / 64 * 64;
        let mut b = from;
        while b < full_end {
            // SAFETY: `b + 64 <= full_end <= buf.len()`, and `run` reserved the positions' room.
            unsafe { self.block::<VALIDATE>(buf.as_ptr().add(b), b as u32) };
            b += 64;
        }
        // Tail: copy into a block padded with spaces (whitespace creates no structurals).
        let rest = &buf[full_end..to];
        if !rest.is_empty() {
            let mut pad = [b' '; 64];
            pad[..rest.len()].copy_from_slice(rest);
            // SAFETY: `pad` is 64 bytes, and `run` reserved the positions' room.
            unsafe { self.block::<VALIDATE>(pad.as_ptr(), full_end as u32) };
        }
        // SAFETY: every position below `self.n` was written by `flatten`, within the reserved capacity.
        unsafe { out.set_len(self.n) };
    }

    /// After the last `run`: false if a string is unterminated or (VALIDATE)
    /// a control character is inside a string or the UTF-8 is invalid.
    fn finish<const VALIDATE: bool>(&self) -> bool {
        let mut ok = self.prev_in_string == 0;
        if VALIDATE {
            ok &= self.control_err == 0 && !self.utf8_err && self.utf8_state == 0;
        }
        ok
    }
}

/// Build the structural index of the whole `buf` into `out` (cleared; reused
/// between passes). VALIDATE adds the UTF-8 and control-character checks.
fn stage1<const VALIDATE: bool>(buf: &[u8], out: &mut Vec<u32>) -> bool {
    out.clear();
    let mut s = Stage1::new();
    s.run::<VALIDATE>(buf, 0, buf.len(), out);
    s.finish::<VALIDATE>()
}

// ---------------------------------------------------------------------------
// Scalar reference index (same semantics, one byte at a time)
// ---------------------------------------------------------------------------

fn reference_index(buf: &[u8]) -> (Vec<u32>, bool) {
    let mut out = Vec::new();
    let mut escape_next = false; // previous byte was an escaping backslash
    let mut in_string = false;
    let mut prev_pred = true;
    for (i, &c) in buf.iter().enumerate() {
        let escaped = escape_next;
        escape_next = c == b'\\' && !escaped;
        let quote = c == b'"' && !escaped;
        if quote {
            in_string = !in_string; // value *after* the toggle = inclusive prefix XOR
        }
        let ws = matches!(c, b' ' | b'\t' | b'\n' | b'\r');
        let op = matches!(c, b'{' | b'}' | b'[' | b']' | b':' | b',');
        let pred = op || ws || quote;
        let scalar_start = !pred && !in_string && prev_pred;
        if (op && !in_string) || quote || scalar_start {
            out.push(i as u32);
        }
        prev_pred = pred;
    }
    (out, !in_string)
}

// ---------------------------------------------------------------------------
// Stage 2 lite: grammar walk over the index
// ---------------------------------------------------------------------------

// Stage 2 lite is a table-driven pushdown automaton: the next state is
// TRANSITIONS[state][class of the structural byte]; entries >= ACTIONS are
// actions that touch the stack or check a scalar. Each container remembers
// in `ctx` the state to enter once one of its values is complete
// (AFTER_OBJECT / AFTER_ARRAY, END at top level), and the stack saves the
// enclosing container's `ctx`. Because the after-value states are split by
// container kind, `}` and `]` are only accepted where they match, with no
// need to look at the stack.

// States.
const VALUE: u8 = 0; // after `:` or `,` in an array, or document start
const VALUE_OR_CLOSE_ARRAY: u8 = 1; // after `[`
const KEY_OR_CLOSE_OBJECT: u8 = 2; // after `{`
const KEY: u8 = 3; // after `,` in an object
const KEY_END: u8 = 4; // inside a key: the next structural is its closing quote
const STRING_END: u8 = 5; // inside a string value: likewise
const COLON: u8 = 6; // after a key
const AFTER_OBJECT: u8 = 7; // after a value in an object: `,` or `}`
const AFTER_ARRAY: u8 = 8; // after a value in an array: `,` or `]`
const END: u8 = 9; // top-level value complete
const STATES: usize = 10;
// Actions.
const ACTIONS: u8 = 16;
const OPEN_OBJECT: u8 = 16;
const OPEN_ARRAY: u8 = 17;
const CLOSE: u8 = 18;
const SCALAR: u8 = 19; // check the literal/number, then the value is complete
const VALUE_DONE: u8 = 20; // closing quote of a string value
const ERROR: u8 = 21;

// Byte classes of structurals.
const C_QUOTE: usize = 0;
const C_OPEN_OBJECT: usize = 1;
const C_CLOSE_OBJECT: usize = 2;
const C_OPEN_ARRAY: usize = 3;
const C_CLOSE_ARRAY: usize = 4;
const C_COLON: usize = 5;
const C_COMMA: usize = 6;
const C_SCALAR: usize = 7; // any other byte: the start of a scalar
const CLASSES: usize = 8;

const CLASS: [u8; 256] = {
    let mut t = [C_SCALAR as u8; 256];
    t[b'"' as usize] = C_QUOTE as u8;
    t[b'{' as usize] = C_OPEN_OBJECT as u8;
    t[b'}' as usize] = C_CLOSE_OBJECT as u8;
    t[b'[' as usize] = C_OPEN_ARRAY as u8;
    t[b']' as usize] = C_CLOSE_ARRAY as u8;
    t[b':' as usize] = C_COLON as u8;
    t[b',' as usize] = C_COMMA as u8;
    t
};

const TRANSITIONS: [[u8; CLASSES]; STATES] = {
    let mut t = [[ERROR; CLASSES]; STATES];
    // A value: string, object, array or scalar.
    let mut v = 0;
    while v < 2 {
        let s = [VALUE, VALUE_OR_CLOSE_ARRAY][v] as usize;
        t[s][C_QUOTE] = STRING_END;
        t[s][C_OPEN_OBJECT] = OPEN_OBJECT;
        t[s][C_OPEN_ARRAY] = OPEN_ARRAY;
        t[s][C_SCALAR] = SCALAR;
        v += 1;
    }
    t[VALUE_OR_CLOSE_ARRAY as usize][C_CLOSE_ARRAY] = CLOSE;
    t[KEY_OR_CLOSE_OBJECT as usize][C_QUOTE] = KEY_END;
    t[KEY_OR_CLOSE_OBJECT as usize][C_CLOSE_OBJECT] = CLOSE;
    t[KEY as usize][C_QUOTE] = KEY_END;
    t[KEY_END as usize][C_QUOTE] = COLON;
    t[STRING_END as usize][C_QUOTE] = VALUE_DONE;
    t[COLON as usize][C_COLON] = VALUE;
    t[AFTER_OBJECT as usize][C_COMMA] = KEY;
    t[AFTER_OBJECT as usize][C_CLOSE_OBJECT] = CLOSE;
    t[AFTER_ARRAY as usize][C_COMMA] = VALUE;
    t[AFTER_ARRAY as usize][C_CLOSE_ARRAY] = CLOSE;
    t
};

/// Check `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` at `i`; returns the end.
#[inline(always)]
fn number_end(buf: &[u8], mut i: usize) -> Option<usize> {
    let at = |i: usize| buf.get(i).copied().unwrap_or(b' ');
    let digits = |mut i: usize| {
        let s = i;
        while at(i).is_ascii_digit() {
            i += 1;
        }
        (i, i - s)
    };
    if at(i) == b'-' {
        i += 1;
    }
    match at(i) {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits(i).0,
        _ => return None,
    }
    if at(i) == b'.' {
        let (j, n) = digits(i + 1);
        if n == 0 {
            return None;
        }
        i = j;
    }
    if at(i) | 0x20 == b'e' {
        i += 1;
        if at(i) == b'+' || at(i) == b'-' {
            i += 1;
        }
        let (j, n) = digits(i);
        if n == 0 {
            return None;
        }
        i = j;
    }
    Some(i)
}

/// Validate one scalar starting at `pos`. It must end at whitespace, at the
/// end of the document, or at an op/quote (i.e. exactly at the next
/// structural: a scalar character there would not have been a structural).
/// Testing the byte, not the next index entry, keeps the walk resumable
/// across index chunks.
#[inline(always)]
fn check_scalar(buf: &[u8], pos: usize) -> bool {
    let end = match buf[pos] {
        b't' if buf[pos..].starts_with(b"true") => pos + 4,
        b'f' if buf[pos..].starts_with(b"false") => pos + 5,
        b'n' if buf[pos..].starts_with(b"null") => pos + 4,
        b'-' | b'0'..=b'9' => match number_end(buf, pos) {
            Some(e) => e,
            None => return false,
        },
        _ => return false,
    };
    matches!(buf.get(end), None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b':' | b'[' | b']' | b'{' | b'}' | b'"'))
}

/// Stage 2 lite: a resumable grammar walk over structural positions.
/// Checks the follower rules, container nesting (depth), string pairing (an
/// opening quote must be followed by its closing quote in the index) and the
/// scalar grammar. It does not check string contents (escape validity),
/// which a full validator would.
struct Walker {
    stack: Vec<u8>, // enclosing containers' `ctx`
    ctx: u8,        // state after a complete value in the current container
    st: u8,
    tokens: u64,
}

impl Walker {
    fn new() -> Self {
        Walker { stack: Vec::with_capacity(64), ctx: END, st: VALUE, tokens: 0 }
    }

    /// Consume the next part of the index; Err = offset of the offending byte.
    fn feed(&mut self, buf: &[u8], idx: &[u32]) -> Result<(), usize> {
        let (mut st, mut ctx) = (self.st, self.ctx);
        for &p in idx {
            let pos = p as usize;
            let c = buf[pos];
            let next = TRANSITIONS[st as usize][CLASS[c as usize] as usize];
            if next < ACTIONS {
                st = next; // the common case: `:`, `,`, quotes of keys, ...
                continue;
            }
            st = match next {
                OPEN_OBJECT | OPEN_ARRAY => {
                    self.stack.push(ctx);
                    if next == OPEN_OBJECT {
                        ctx = AFTER_OBJECT;
                        KEY_OR_CLOSE_OBJECT
                    } else {
                        ctx = AFTER_ARRAY;
                        VALUE_OR_CLOSE_ARRAY
                    }
                }
                CLOSE => {
                    // Never empty: CLOSE is only reachable inside a container.
                    ctx = self.stack.pop().unwrap_or(END);
                    ctx
                }
                SCALAR if check_scalar(buf, pos) => ctx,
                VALUE_DONE => ctx,
                _ => return Err(pos),
            };
        }
        self.tokens += idx.len() as u64;
        (self.st, self.ctx) = (st, ctx);
        Ok(())
    }

    /// After the last `feed`: Ok(final depth) if one complete value was seen.
    fn finish(&self, len: usize) -> Result<usize, usize> {
        if self.st != END {
            return Err(len);
        }
        Ok(self.stack.len())
    }
}

/// Walk a whole index: (final depth, tokens) or the failing offset.
fn walk(buf: &[u8], idx: &[u32]) -> Result<(usize, u64), usize> {
    let mut w = Walker::new();
    w.feed(buf, idx)?;
    Ok((w.finish(buf.len())?, w.tokens))
}

/// Stage 1 + stage 2 lite fused per CHUNK bytes, reusing one small index
/// buffer that stays in cache, as a streaming scanner would run them.
const CHUNK: usize = 64 * 1024;
fn fused(buf: &[u8], idx: &mut Vec<u32>) -> Result<(usize, u64), usize> {
    let mut s = Stage1::new();
    let mut w = Walker::new();
    let mut from = 0;
    while from < buf.len() {
        let to = (from + CHUNK).min(buf.len());
        idx.clear();
        s.run::<true>(buf, from, to, idx);
        w.feed(buf, idx)?;
        from = to;
    }
    if !s.finish::<true>() {
        return Err(buf.len());
    }
    Ok((w.finish(buf.len())?, w.tokens))
}

// ---------------------------------------------------------------------------
// Self-test
// ---------------------------------------------------------------------------

/// xorshift64*: deterministic pseudo-random bytes for the fuzz part.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Compare the SIMD index with the reference on `buf`; Err = first mismatch.
fn check_index(name: &str, buf: &[u8], out: &mut Vec<u32>) -> Result<(), String> {
    let ok = stage1::<false>(buf, out);
    let (want, want_ok) = reference_index(buf);
    if *out == want && ok == want_ok {
        return Ok(());
    }
    let first = out.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(out.len().min(want.len()));
    Err(format!(
        "{name}: {} structurals vs reference {}, ok={ok} vs {want_ok}; first difference at entry {first}: simd {:?} reference {:?}; input {:?}",
        out.len(),
        want.len(),
        out.get(first),
        want.get(first),
        String::from_utf8_lossy(&buf[..buf.len().min(200)])
    ))
}

/// Compare stage1's UTF-8 verdict with std. Inputs contain no `"` (so no
/// strings and no control-character errors) and only UTF-8 decides.
fn check_utf8(name: &str, buf: &[u8], out: &mut Vec<u32>) -> Result<(), String> {
    let got = stage1::<true>(buf, out);
    let want = std::str::from_utf8(buf).is_ok();
    if got == want {
        Ok(())
    } else {
        Err(format!("utf8 {name}: got valid={got}, std says {want}; input {buf:02x?}"))
    }
}

fn selftest(doc: &[u8]) -> Result<(), String> {
    let mut out = Vec::new();
    // 1. Hand-written inputs: escaped quotes, backslash runs, structurals in strings.
    let crafted: &[&[u8]] = &[
        br#"{"a":1}"#,
        br#""a\"b""#,
        br#""\\\\""#,
        br#"["\\", "\\\"", "x\\\\\"y"]"#,
        br#"{"k{}[]:,": "v,:{}", "n": [true, false, null, -1.5e+3]}"#,
        br#"  123  "abc" 4 5 tru"#,
        br#""unterminated \" string"#,
    ];
    for (k, s) in crafted.iter().enumerate() {
        check_index(&format!("crafted[{k}]"), s, &mut out)?;
    }
    // 2. Block boundaries: backslash runs of every length, quotes and scalars
    //    straddling byte 64.
    for shift in 0..70 {
        for run in 1..6 {
            let mut s = vec![b' '; shift];
            s.extend_from_slice(b"[\"");
            s.extend(std::iter::repeat_n(b'\\', run));
            s.extend_from_slice(b"\"x\", 12, \"a\"]");
            check_index(&format!("boundary shift={shift} run={run}"), &s, &mut out)?;
        }
    }
    // 3. Random strings over a JSON-ish alphabet, heavy in `\` and `"`.
    let alphabet = b"\\\\\\\"\"{}[]:, \t\nax1-";
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for t in 0..3000 {
        let len = (rng.next() % 300) as usize;
        let s: Vec<u8> = (0..len).map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize]).collect();
        check_index(&format!("random[{t}]"), &s, &mut out)?;
    }
    // 4. The first 10 MB of the real document.
    check_index("doc first 10 MB", &doc[..doc.len().min(10_000_000)], &mut out)?;

    // 5. UTF-8 against std: overlongs, surrogates, > U+10FFFF, truncation,
    //    stray continuations, each placed at every offset around a block edge.
    let utf8_cases: &[&[u8]] = &[
        "ë€😀".as_bytes(),
        &[0xC0, 0x80],
        &[0xC1, 0xBF],
        &[0xE0, 0x80, 0x80],
        &[0xE0, 0x9F, 0xBF],
        &[0xE0, 0xA0, 0x80],
        &[0xED, 0x9F, 0xBF],
        &[0xED, 0xA0, 0x80],
        &[0xF0, 0x8F, 0xBF, 0xBF],
        &[0xF0, 0x90, 0x80, 0x80],
        &[0xF4, 0x8F, 0xBF, 0xBF],
        &[0xF4, 0x90, 0x80, 0x80],
        &[0xF5, 0x80, 0x80, 0x80],
        &[0x80],
        &[0xC3],
        &[0xE2, 0x82],
        &[0xF0, 0x9F, 0x98],
        &[0xC3, 0x41],
        &[0xFF],
    ];
    for (k, case) in utf8_cases.iter().enumerate() {
        for shift in 55..70 {
            let mut s = vec![b'a'; shift];
            s.extend_from_slice(case);
            check_utf8(&format!("case[{k}] at {shift}"), &s, &mut out)?;
            s.extend_from_slice(b"bc");
            check_utf8(&format!("case[{k}] at {shift} + ascii"), &s, &mut out)?;
        }
    }
    // Random mixes of valid multi-byte characters and random bytes.
    for t in 0..3000 {
        let len = (rng.next() % 300) as usize;
        let mut s = Vec::with_capacity(len);
        while s.len() < len {
            match rng.next() % 12 {
                0 => s.extend_from_slice("ë".as_bytes()),
                1 => s.extend_from_slice("€".as_bytes()),
                2 => s.extend_from_slice("😀".as_bytes()),
                3 => s.push(0x80 | (rng.next() % 128) as u8),
                4 => s.push((rng.next() % 256) as u8),
                _ => s.push(b'a'),
            }
        }
        s.retain(|&b| b != b'"');
        check_utf8(&format!("random[{t}]"), &s, &mut out)?;
    }
    // The whole document (it is valid UTF-8, so this checks for false errors).
    if stage1::<true>(doc, &mut out) != std::str::from_utf8(doc).is_ok() {
        return Err("utf8 whole document disagrees with std".into());
    }

    // 6. Stage 2 lite on small valid / invalid documents.
    let walk_cases: &[(&[u8], bool)] = &[
        (br#"{"a": [1, 2.5e3, -0, true, null, "x\"y"], "b": {}}"#, true),
        (br#"[]"#, true),
        (br#" 42 "#, true),
        (br#"{"a" 1}"#, false),
        (br#"[1,]"#, false),
        (br#"[01]"#, false),
        (br#"[1 2]"#, false),
        (br#"{"a":tru}"#, false),
        (br#"[1}"#, false),
        (br#"[[1]"#, false),
        (br#"{"a":1,}"#, false),
        (b"[\"a\x01b\"]", false),
        (br#"{"a":1]"#, false),
        (br#"{}}"#, false),
        (br#"[] []"#, false),
        (br#""a" "b""#, false),
        (br#"{"a":"b":"c"}"#, false),
        (br#"{1:2}"#, false),
        (br#"[-]"#, false),
        (br#"[1.]"#, false),
        (br#"[1e]"#, false),
        (br#"[1x]"#, false),
        (br#"[nul]"#, false),
        (br#"[[[{"a":[{"b":{}}, [], -12.5E-7, 0.5e+1]}]]]"#, true),
        (br#""a\\""#, true),
        (br#""a\""#, false),
    ];
    for (s, valid) in walk_cases {
        let ok = stage1::<true>(s, &mut out) && walk(s, &out).map(|(d, _)| d == 0).unwrap_or(false);
        let ok_fused = fused(s, &mut out).map(|(d, _)| d == 0).unwrap_or(false);
        if ok != *valid || ok_fused != *valid {
            return Err(format!("walk {:?}: got valid={ok}, expected {valid}", String::from_utf8_lossy(s)));
        }
    }
    // The whole document: the fused walk (64 KiB chunks, so strings and
    // numbers straddle chunk edges) must agree with the one-shot walk, and
    // a truncated document must fail both ways.
    let one_shot = if stage1::<true>(doc, &mut out) { walk(doc, &out) } else { Err(doc.len()) };
    let chunked = fused(doc, &mut out);
    if one_shot != chunked || !matches!(one_shot, Ok((0, _))) {
        return Err(format!("walk whole document: one-shot {one_shot:?}, fused {chunked:?}"));
    }
    let cut = &doc[..doc.len().min(1_000_003)];
    if fused(cut, &mut out).is_ok() {
        return Err("walk-fused accepted a truncated document".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------

fn mbps(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

/// Run `f` twice (warm-up, then measured); return (warm-up s, measured s, result).
fn time2<R>(mut f: impl FnMut() -> R) -> (f64, f64, R) {
    let t = Instant::now();
    let _ = std::hint::black_box(f());
    let warm = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let r = std::hint::black_box(f());
    (warm, t.elapsed().as_secs_f64(), r)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: simd-index baseline|stage1|stage1+utf8|walk|walk-fused|read64k|selftest FILE");
        std::process::exit(2);
    }
    let (mode, path) = (args[1].as_str(), args[2].as_str());
    if mode == "read64k" {
        // The I/O alone the way a streaming scanner sees it: 64 KiB reads into
        // one reused buffer (no 115 MB allocation, no page faults on it).
        use std::io::Read;
        let t = Instant::now();
        let mut f = std::fs::File::open(path).expect("open input");
        let mut chunk = vec![0u8; 64 * 1024];
        let (mut total, mut quotes) = (0usize, 0u64);
        loop {
            let k = f.read(&mut chunk).expect("read input");
            if k == 0 {
                break;
            }
            total += k;
            quotes += count_quotes_simd(&chunk[..k]);
        }
        let s = t.elapsed().as_secs_f64();
        println!("read64k: {total} bytes in {:.1} ms ({:.0} MB/s), quotes={quotes}", s * 1e3, mbps(total, s));
        return;
    }
    let t = Instant::now();
    let buf = std::fs::read(path).expect("read input");
    let read_s = t.elapsed().as_secs_f64();
    let n = buf.len();
    println!("file {path}: {n} bytes, fs::read {:.1} ms ({:.0} MB/s)", read_s * 1e3, mbps(n, read_s));
    let mut idx: Vec<u32> = Vec::new();
    match mode {
        "baseline" => {
            let (w, s, q) = time2(|| count_quotes(&buf));
            println!("baseline: {:.0} MB/s (warm-up pass {:.0} MB/s), quotes={q}", mbps(n, s), mbps(n, w));
            let (w, s, q) = time2(|| count_quotes_simd(&buf));
            println!("baseline-simd: {:.0} MB/s (warm-up pass {:.0} MB/s), quotes={q}", mbps(n, s), mbps(n, w));
        }
        "stage1" => {
            let (w, s, ok) = time2(|| stage1::<false>(&buf, &mut idx));
            println!("stage1: {:.0} MB/s (warm-up pass {:.0} MB/s), structurals={} ok={ok}", mbps(n, s), mbps(n, w), idx.len());
        }
        "stage1+utf8" => {
            let (w, s, ok) = time2(|| stage1::<true>(&buf, &mut idx));
            println!("stage1+utf8: {:.0} MB/s (warm-up pass {:.0} MB/s), structurals={} ok={ok}", mbps(n, s), mbps(n, w), idx.len());
        }
        "walk" => {
            // Warm-up pass of both stages, then measure each stage separately.
            let _ = stage1::<true>(&buf, &mut idx);
            let _ = std::hint::black_box(walk(&buf, &idx));
            let t = Instant::now();
            let ok = stage1::<true>(&buf, &mut idx);
            let s1 = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let r = std::hint::black_box(walk(&buf, &idx));
            let s2 = t.elapsed().as_secs_f64();
            let res = match r {
                Ok((depth, tokens)) => format!("depth={depth} tokens={tokens}"),
                Err(p) => format!("ERROR at byte {p}"),
            };
            println!(
                "walk: {:.0} MB/s total (stage1+utf8 {:.0} MB/s, stage2-lite {:.0} MB/s), stage1 ok={ok} {res}",
                mbps(n, s1 + s2),
                mbps(n, s1),
                mbps(n, s2)
            );
        }
        "walk-fused" => {
            let (w, s, r) = time2(|| fused(&buf, &mut idx));
            let res = match r {
                Ok((depth, tokens)) => format!("depth={depth} tokens={tokens}"),
                Err(p) => format!("ERROR at byte {p}"),
            };
            println!("walk-fused: {:.0} MB/s (warm-up pass {:.0} MB/s; {} KiB chunks) {res}", mbps(n, s), mbps(n, w), CHUNK / 1024);
        }
        "selftest" => match selftest(&buf) {
            Ok(()) => println!("selftest: OK"),
            Err(e) => {
                println!("selftest: FIRST MISMATCH {e}");
                std::process::exit(1);
            }
        },
        _ => {
            eprintln!("unknown mode {mode}");
            std::process::exit(2);
        }
    }
}

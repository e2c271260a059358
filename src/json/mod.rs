//! A streaming JSON validator that copies out the values found at requested paths.
//!
//! The scanner is a pushdown automaton that takes a byte at a time (and passes over runs of
//! plain text inside strings), and between tokens a whole token at a time while the token is
//! plain and ends inside the chunk (most of a document: a chunk boundary or an escape hands the
//! token to the automaton, from its first byte). The whole state lives in [`Scanner`], so a
//! document can be fed in chunks as they arrive from the network and its memory does not grow
//! with the document. Inside a container no requested path reaches, nothing but the grammar runs.
//! The grammar is a transition table over byte classes (the design of Douglas Crockford's
//! JSON_checker), which is smaller in wasm than the same rules written as `match`es; what the
//! table cannot hold (the container stack, UTF-8 sequences, the paths) is code around it. Nesting
//! is tracked with one bit per open container on the heap, never with recursion, so no document
//! can exhaust the stack. It checks all of RFC 8259 (grammar, escapes, numbers, UTF-8) and builds
//! no tree: the only structure it follows is the path prefix that can still lead to a requested
//! value, as a bit mask per depth up to the longest path. Each captured value is the exact byte
//! range of the document, copied a chunk's range at a time, so numbers, escapes and whitespace
//! inside objects pass through unchanged. A key that occurs twice in an object yields its last
//! value, whole: what an earlier occurrence held is forgotten.
//!
//! The module is split by job: `grammar` (byte classes and the transition table), `scanner` (the
//! automaton that runs it, chunk by chunk), `matcher` (the paths followed and the values copied),
//! `skip` (a value whole in its chunk, checked and passed over in one pass), `string` (writing and
//! decoding string literals), `error` (why a document is not JSON). This file only re-exports.

mod error;
mod grammar;
mod matcher;
mod scanner;
mod skip;
mod string;

pub use error::{JsonError, JsonErrorKind};
pub use scanner::{extract, validate, Scanner, MAX_PATHS};
pub(crate) use string::hex_value;
pub use string::{compact, decode_string, write_escaped, write_string};

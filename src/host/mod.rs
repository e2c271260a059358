//! The WASI glue: the only code that touches the host. Each piece is thin on purpose; the
//! decisions it carries out live in the host-testable modules of the crate. Every unsafe block
//! here says why it is sound in a `SAFETY:` line, and an unsafe function's body is no unsafe
//! block of its own.
#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]

mod abi;
mod fanout;
mod outbound;
mod runtime;
#[cfg(feature = "http")]
mod settings;
mod streams;

#[cfg(feature = "cli")]
mod cli_component;
#[cfg(feature = "http")]
mod http_component;

// The answer when the memory runs out (`runtime`'s panic handler).
#[cfg(feature = "cli")]
use cli_component::out_of_memory;
#[cfg(all(feature = "http", not(feature = "spin-via-sdk")))]
use http_component::out_of_memory;

//! edge-relay: a WebAssembly component that forwards JSON to an upstream API through the host's
//! outbound HTTP and answers with only the fields asked for.
//!
//! The crate is split along one line. Everything that decides (the streaming JSON scanner, field
//! paths, configuration, the error model, the relay's request and answer rules) is plain Rust
//! over byte slices in the modules below, built for the host and tested with `cargo test`. The
//! WASI glue in `host` (compiled only for `wasm32` with the `http` or `cli` feature) does the
//! I/O: it reads the request, drives `wasi:http/outgoing-handler`, feeds the upstream's body to
//! the scanner chunk by chunk and writes the answer. The wasm build is `no_std` with a bump
//! allocator, so the component carries no formatting machinery and no allocator it does not need.
#![cfg_attr(target_arch = "wasm32", no_std)]
// Unsafe code belongs in `host`, the WASI glue; the few exceptions in the deciding core (text
// helpers that skip a UTF-8 re-check) are allowed one by one where they stand, with their reason.
#![deny(unsafe_code)]
// Two of clippy's suggestions cost the wasm build bytes: `String::push` with a char literal
// encodes it as UTF-8 where `push_str` of a one-byte literal copies it (109 bytes), and
// `<[u8]>::contains` links core's `memchr` where `iter().any` is a plain loop (317 bytes, with
// `str::contains(char)`'s searcher).
#![allow(clippy::single_char_add_str, clippy::manual_contains)]

extern crate alloc;

pub mod answer;
pub mod cli;
pub mod config;
pub mod error;
pub mod field;
pub mod gateway;
pub mod json;
pub mod path;
pub mod relay;
pub mod route;
pub mod shape;
pub mod template;
pub mod text;

#[cfg(all(target_arch = "wasm32", any(feature = "http", feature = "cli")))]
#[allow(unsafe_code)]
mod host;

//! The WASI glue: the only code that touches the host. Each piece is thin on purpose; the
//! decisions it carries out live in the host-testable modules of the crate.

mod abi;
mod outbound;
mod runtime;
#[cfg(feature = "http")]
mod settings;
mod streams;

#[cfg(feature = "cli")]
mod cli_component;
#[cfg(feature = "http")]
mod http_component;

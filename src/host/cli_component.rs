//! `wasi:cli/run`: placeholder until the command lands.

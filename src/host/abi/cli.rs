//! The two `wasi:cli` calls the HTTP component makes: its environment (the configuration) and its
//! stderr (one line per failure that is the operator's to fix).

use super::{OutputStream, ReturnArea};

#[link(wasm_import_module = "wasi:cli/stderr@0.2.12")]
unsafe extern "C" {
    #[link_name = "get-stderr"]
    fn get_stderr_import() -> OutputStream;
}

#[link(wasm_import_module = "wasi:cli/environment@0.2.12")]
unsafe extern "C" {
    #[link_name = "get-environment"]
    fn get_environment_import(ret: *mut u8);
}

pub fn stderr() -> OutputStream {
    // SAFETY: a call without arguments; the stream it returns is ours.
    unsafe { get_stderr_import() }
}

/// One `tuple<string, string>` of `get-environment`.
#[repr(C)]
pub struct Variable {
    name: *const u8,
    name_len: usize,
    value: *const u8,
    value_len: usize,
}

impl Variable {
    pub fn name(&self) -> &'static str {
        // SAFETY: the host wrote the name, UTF-8, with the environment list.
        unsafe { super::str_from_host(super::bytes_from_host(self.name, self.name_len)) }
    }

    pub fn value(&self) -> &'static str {
        // SAFETY: the host wrote the value, UTF-8, with the environment list.
        unsafe { super::str_from_host(super::bytes_from_host(self.value, self.value_len)) }
    }
}

/// The environment variables, as the host lists them.
pub fn environment() -> &'static [Variable] {
    let mut ret = ReturnArea::new();
    // SAFETY: `ret` fits a `list<tuple<string, string>>`.
    unsafe { get_environment_import(ret.ptr()) };
    ret.list(0)
}

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
        unsafe { str_from_host(self.name, self.name_len) }
    }

    pub fn value(&self) -> &'static str {
        // SAFETY: the host wrote the value, UTF-8, with the environment list.
        unsafe { str_from_host(self.value, self.value_len) }
    }
}

/// A string the host wrote into the instance's memory; the canonical ABI guarantees it is UTF-8.
///
/// # Safety
/// `ptr` and `len` must come from a string the host returned, whose memory the allocator keeps.
unsafe fn str_from_host(ptr: *const u8, len: usize) -> &'static str {
    if len == 0 {
        return "";
    }
    // SAFETY: as the caller promises; the host checked the UTF-8 when it lowered the string.
    unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(ptr, len)) }
}

/// The environment variables, as the host lists them.
pub fn environment() -> &'static [Variable] {
    let mut ret = ReturnArea::new();
    // SAFETY: `ret` fits a `list<tuple<string, string>>`.
    unsafe { get_environment_import(ret.ptr()) };
    ret.list(0)
}

//! The server side of `wasi:http` (the HTTP component only): the client's request, the response,
//! and the two `wasi:cli` calls the component makes: its environment and its stderr.

use super::{Fields, IncomingBody, OutgoingBody, OutputStream, ReturnArea};

#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct IncomingRequest(pub(super) i32);
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct OutgoingResponse(pub(super) i32);
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct ResponseOutparam(pub(super) i32);

#[link(wasm_import_module = "wasi:http/types@0.2.12")]
unsafe extern "C" {
    #[link_name = "[method]incoming-request.method"]
    fn incoming_request_method(request: IncomingRequest, ret: *mut u8);
    #[link_name = "[method]incoming-request.path-with-query"]
    fn incoming_request_path_with_query(request: IncomingRequest, ret: *mut u8);
    #[link_name = "[method]incoming-request.consume"]
    fn incoming_request_consume(request: IncomingRequest, ret: *mut u8);
    #[link_name = "[constructor]outgoing-response"]
    fn outgoing_response_new(headers: Fields) -> OutgoingResponse;
    #[link_name = "[method]outgoing-response.set-status-code"]
    fn outgoing_response_set_status_code(response: OutgoingResponse, status: i32) -> i32;
    #[link_name = "[method]outgoing-response.body"]
    fn outgoing_response_body(response: OutgoingResponse, ret: *mut u8);
    #[link_name = "[static]response-outparam.set"]
    fn response_outparam_set(out: ResponseOutparam, is_err: i32, response: OutgoingResponse, a: i32, b: i64, c: i32, d: i32, e: i32, f: i32);
}

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

impl IncomingRequest {
    /// Whether the method is GET or HEAD (cases 0 and 1 of `method`).
    pub fn is_get_or_head(self) -> bool {
        let mut ret = ReturnArea::new();
        unsafe { incoming_request_method(self, ret.ptr()) };
        ret.byte(0) <= 1
    }

    pub fn path_with_query(self) -> &'static [u8] {
        let mut ret = ReturnArea::new();
        unsafe { incoming_request_path_with_query(self, ret.ptr()) };
        if ret.byte(0) == 0 {
            return &[];
        }
        ret.list(4)
    }

    pub fn consume(self) -> Result<IncomingBody, ()> {
        let mut ret = ReturnArea::new();
        unsafe { incoming_request_consume(self, ret.ptr()) };
        ret.handle().map(IncomingBody)
    }
}

impl OutgoingResponse {
    pub fn new(headers: Fields, status: u16) -> OutgoingResponse {
        unsafe {
            let response = outgoing_response_new(headers);
            outgoing_response_set_status_code(response, i32::from(status));
            response
        }
    }

    pub fn body(self) -> Result<OutgoingBody, ()> {
        let mut ret = ReturnArea::new();
        unsafe { outgoing_response_body(self, ret.ptr()) };
        ret.handle().map(OutgoingBody)
    }
}

impl ResponseOutparam {
    /// `response-outparam.set` with a response (never an error: the relay answers every failure itself).
    pub fn set(self, response: OutgoingResponse) {
        unsafe { response_outparam_set(self, 0, response, 0, 0, 0, 0, 0, 0) }
    }
}

pub fn stderr() -> OutputStream {
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
        unsafe { str_from_host(self.name, self.name_len) }
    }

    pub fn value(&self) -> &'static str {
        unsafe { str_from_host(self.value, self.value_len) }
    }
}

/// A string the host wrote into the instance's memory; the canonical ABI guarantees it is UTF-8.
unsafe fn str_from_host(ptr: *const u8, len: usize) -> &'static str {
    if len == 0 {
        return "";
    }
    core::str::from_utf8_unchecked(core::slice::from_raw_parts(ptr, len))
}

/// The environment variables, as the host lists them.
pub fn environment() -> &'static [Variable] {
    let mut ret = ReturnArea::new();
    unsafe { get_environment_import(ret.ptr()) };
    ret.list(0)
}

/// Handles the host passes to an export.
impl IncomingRequest {
        pub fn from_handle(handle: i32) -> IncomingRequest {
        IncomingRequest(handle)
    }
}

impl ResponseOutparam {
        pub fn from_handle(handle: i32) -> ResponseOutparam {
        ResponseOutparam(handle)
    }
}

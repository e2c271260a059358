//! The `wasi:http` calls whose results (or arguments) carry an `error-code`, made directly through
//! the canonical ABI, reading or writing only its discriminant.
//!
//! The generated bindings lift every `error-code` into a 39-case Rust enum with strings and
//! numbers (or lower it from one), and each of these functions carries its own copy of that code.
//! The relay needs only which case it was, so these wrappers read one byte. Payload strings the
//! host may have allocated are left to the bump allocator, which the instance discards with the
//! request. Offsets follow the canonical ABI: a result or
//! option has its discriminant at 0 and, with an `error-code` (aligned to 8) inside, its payload
//! at 8.

use wasi::http::types::{FutureIncomingResponse, IncomingResponse, IoError, OutgoingBody, OutgoingRequest, RequestOptions};

/// An `error-code` case, by its index in the WIT variant (`wit/deps/http.wit`).
pub type ErrorCase = u8;

pub const DNS_TIMEOUT: ErrorCase = 0;
pub const DNS_ERROR: ErrorCase = 1;
pub const DESTINATION_NOT_FOUND: ErrorCase = 2;
pub const DESTINATION_UNAVAILABLE: ErrorCase = 3;
pub const DESTINATION_IP_UNROUTABLE: ErrorCase = 5;
pub const CONNECTION_REFUSED: ErrorCase = 6;
pub const CONNECTION_TERMINATED: ErrorCase = 7;
pub const CONNECTION_TIMEOUT: ErrorCase = 8;
pub const CONNECTION_WRITE_TIMEOUT: ErrorCase = 10;
pub const TLS_PROTOCOL_ERROR: ErrorCase = 12;
pub const TLS_ALERT_RECEIVED: ErrorCase = 14;
pub const HTTP_REQUEST_DENIED: ErrorCase = 15;
pub const HTTP_REQUEST_LENGTH_REQUIRED: ErrorCase = 16;
pub const HTTP_REQUEST_BODY_SIZE: ErrorCase = 17;
pub const HTTP_RESPONSE_INCOMPLETE: ErrorCase = 25;
pub const HTTP_RESPONSE_BODY_SIZE: ErrorCase = 28;
pub const HTTP_RESPONSE_TIMEOUT: ErrorCase = 33;

#[link(wasm_import_module = "wasi:http/outgoing-handler@0.2.12")]
unsafe extern "C" {
    #[link_name = "handle"]
    fn outgoing_handle(request: i32, has_options: i32, options: i32, ret: *mut u8);
}

#[link(wasm_import_module = "wasi:http/types@0.2.12")]
unsafe extern "C" {
    #[link_name = "[static]outgoing-body.finish"]
    fn outgoing_body_finish(body: i32, has_trailers: i32, trailers: i32, ret: *mut u8);
    #[link_name = "[method]future-incoming-response.get"]
    fn future_incoming_response_get(future: i32, ret: *mut u8);
    #[link_name = "http-error-code"]
    fn http_error_code(error: i32, ret: *mut u8);
}

/// Room for any of the four results: 8 bytes of discriminants, then up to 48 of payload.
#[repr(C, align(8))]
struct ReturnArea([u8; 56]);

impl ReturnArea {
    fn new() -> ReturnArea {
        ReturnArea([0; 56])
    }

    fn byte(&self, offset: usize) -> u8 {
        self.0[offset]
    }

    fn handle(&self, offset: usize) -> u32 {
        u32::from_le_bytes([self.0[offset], self.0[offset + 1], self.0[offset + 2], self.0[offset + 3]])
    }
}

/// `outgoing-handler.handle`: starts the request.
pub fn send(request: OutgoingRequest, options: RequestOptions) -> Result<FutureIncomingResponse, ErrorCase> {
    let mut ret = ReturnArea::new();
    unsafe {
        outgoing_handle(request.take_handle() as i32, 1, options.take_handle() as i32, ret.0.as_mut_ptr());
        match ret.byte(0) {
            0 => Ok(FutureIncomingResponse::from_handle(ret.handle(8))),
            _ => Err(ret.byte(8)),
        }
    }
}

/// `outgoing-body.finish` without trailers.
pub fn finish(body: OutgoingBody) -> Result<(), ErrorCase> {
    let mut ret = ReturnArea::new();
    unsafe { outgoing_body_finish(body.take_handle() as i32, 0, 0, ret.0.as_mut_ptr()) };
    match ret.byte(0) {
        0 => Ok(()),
        _ => Err(ret.byte(8)),
    }
}

/// `future-incoming-response.get`: `None` while pending; `Some(Err(None))` if already taken.
pub fn response(future: &FutureIncomingResponse) -> Option<Result<IncomingResponse, Option<ErrorCase>>> {
    let mut ret = ReturnArea::new();
    unsafe {
        future_incoming_response_get(future.handle() as i32, ret.0.as_mut_ptr());
        if ret.byte(0) == 0 {
            return None;
        }
        Some(match (ret.byte(8), ret.byte(16)) {
            (0, 0) => Ok(IncomingResponse::from_handle(ret.handle(24))),
            (0, _) => Err(Some(ret.byte(24))),
            _ => Err(None),
        })
    }
}

/// `http-error-code`: what a stream error meant, when it came from HTTP.
pub fn stream_error_case(error: &IoError) -> Option<ErrorCase> {
    let mut ret = ReturnArea::new();
    unsafe { http_error_code(error.handle() as i32, ret.0.as_mut_ptr()) };
    match ret.byte(0) {
        0 => None,
        _ => Some(ret.byte(8)),
    }
}

/// `response-outparam.set` with a response (never an error: the relay answers every failure itself).
#[cfg(feature = "http")]
pub fn set_response(out: wasi::http::types::ResponseOutparam, response: wasi::http::types::OutgoingResponse) {
    #[link(wasm_import_module = "wasi:http/types@0.2.12")]
    unsafe extern "C" {
        #[link_name = "[static]response-outparam.set"]
        fn response_outparam_set(out: i32, is_err: i32, response: i32, a: i32, b: i64, c: i32, d: i32, e: i32, f: i32);
    }
    unsafe { response_outparam_set(out.take_handle() as i32, 0, response.take_handle() as i32, 0, 0, 0, 0, 0, 0) };
}

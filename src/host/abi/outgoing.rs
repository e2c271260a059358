//! The client side of `wasi:http`: the upstream request, its options, its response.

use super::{Fields, IncomingBody, IoError, OutgoingBody, Pollable, ReturnArea};

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

#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct OutgoingRequest(pub(super) i32);
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct RequestOptions(pub(super) i32);
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct FutureIncomingResponse(pub(super) i32);
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct IncomingResponse(pub(super) i32);

#[link(wasm_import_module = "wasi:http/types@0.2.12")]
unsafe extern "C" {
    #[link_name = "[constructor]outgoing-request"]
    fn outgoing_request_new(headers: Fields) -> OutgoingRequest;
    #[link_name = "[method]outgoing-request.set-method"]
    fn outgoing_request_set_method(request: OutgoingRequest, case: i32, other: *const u8, len: usize) -> i32;
    #[link_name = "[method]outgoing-request.set-scheme"]
    fn outgoing_request_set_scheme(request: OutgoingRequest, is_some: i32, case: i32, other: *const u8, len: usize) -> i32;
    #[link_name = "[method]outgoing-request.set-authority"]
    fn outgoing_request_set_authority(request: OutgoingRequest, is_some: i32, text: *const u8, len: usize) -> i32;
    #[link_name = "[method]outgoing-request.set-path-with-query"]
    fn outgoing_request_set_path_with_query(request: OutgoingRequest, is_some: i32, text: *const u8, len: usize) -> i32;
    #[link_name = "[method]outgoing-request.body"]
    fn outgoing_request_body(request: OutgoingRequest, ret: *mut u8);
    #[link_name = "[constructor]request-options"]
    fn request_options_new() -> RequestOptions;
    #[link_name = "[method]request-options.set-connect-timeout"]
    fn request_options_set_connect_timeout(options: RequestOptions, is_some: i32, ns: u64) -> i32;
    #[link_name = "[method]request-options.set-first-byte-timeout"]
    fn request_options_set_first_byte_timeout(options: RequestOptions, is_some: i32, ns: u64) -> i32;
    #[link_name = "[resource-drop]request-options"]
    fn request_options_drop(options: RequestOptions);
    #[link_name = "[method]future-incoming-response.subscribe"]
    fn future_incoming_response_subscribe(future: FutureIncomingResponse) -> Pollable;
    #[link_name = "[method]future-incoming-response.get"]
    fn future_incoming_response_get(future: FutureIncomingResponse, ret: *mut u8);
    #[link_name = "[method]incoming-response.status"]
    fn incoming_response_status(response: IncomingResponse) -> i32;
    #[link_name = "[method]incoming-response.consume"]
    fn incoming_response_consume(response: IncomingResponse, ret: *mut u8);
    #[link_name = "[resource-drop]future-incoming-response"]
    fn future_incoming_response_drop(future: FutureIncomingResponse);
    #[link_name = "[resource-drop]incoming-response"]
    fn incoming_response_drop(response: IncomingResponse);
    #[link_name = "http-error-code"]
    fn http_error_code(error: IoError, ret: *mut u8);
}

#[link(wasm_import_module = "wasi:http/outgoing-handler@0.2.12")]
unsafe extern "C" {
    #[link_name = "handle"]
    fn outgoing_handle(request: OutgoingRequest, has_options: i32, options: RequestOptions, ret: *mut u8);
}

/// The cases of WIT's `method`, in order; any other method goes as `other(text)`.
const METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

impl OutgoingRequest {
    pub fn new(headers: Fields) -> OutgoingRequest {
        unsafe { outgoing_request_new(headers) }
    }

    /// Sets the method, the scheme, the authority and the path; false when the host refuses one.
    pub fn set_target(self, method: &str, https: bool, authority: &str, path_with_query: &str) -> bool {
        let case = METHODS.iter().position(|known| *known == method).unwrap_or(METHODS.len());
        unsafe {
            outgoing_request_set_method(self, case as i32, method.as_ptr(), method.len()) == 0
                && outgoing_request_set_scheme(self, 1, i32::from(https), core::ptr::null(), 0) == 0
                && outgoing_request_set_authority(self, 1, authority.as_ptr(), authority.len()) == 0
                && outgoing_request_set_path_with_query(self, 1, path_with_query.as_ptr(), path_with_query.len()) == 0
        }
    }

    pub fn body(self) -> Result<OutgoingBody, ()> {
        let mut ret = ReturnArea::new();
        unsafe { outgoing_request_body(self, ret.ptr()) };
        ret.handle().map(OutgoingBody)
    }
}

impl RequestOptions {
    /// Options with the connect and first-byte timeouts set (the hosts' default is 600 s); `None`
    /// when the host refuses either (a host may not support one), so that the request goes with
    /// the host's defaults rather than with half of what was asked.
    pub fn with_timeouts(connect_ns: u64, first_byte_ns: u64) -> Option<RequestOptions> {
        // SAFETY: plain calls on a handle the constructor just returned.
        let accepted = unsafe {
            let options = request_options_new();
            let accepted = request_options_set_connect_timeout(options, 1, connect_ns) == 0
                && request_options_set_first_byte_timeout(options, 1, first_byte_ns) == 0;
            (options, accepted)
        };
        match accepted {
            (options, true) => Some(options),
            (options, false) => {
                // SAFETY: the options were never handed to the host, so they are ours to drop.
                unsafe { request_options_drop(options) };
                None
            }
        }
    }
}

/// `outgoing-handler.handle`: starts the request, with the options when there are any.
pub fn send(request: OutgoingRequest, options: Option<RequestOptions>) -> Result<FutureIncomingResponse, ErrorCase> {
    let mut ret = ReturnArea::new();
    let (has_options, options) = match options {
        Some(options) => (1, options),
        None => (0, RequestOptions(0)),
    };
    unsafe { outgoing_handle(request, has_options, options, ret.ptr()) };
    match ret.byte(0) {
        0 => Ok(FutureIncomingResponse(ret.word(8))),
        _ => Err(ret.byte(8)),
    }
}

impl FutureIncomingResponse {
    pub fn subscribe(self) -> Pollable {
        unsafe { future_incoming_response_subscribe(self) }
    }

    pub fn release(self) {
        unsafe { future_incoming_response_drop(self) }
    }

    /// `None` while pending; `Some(Err(None))` if the response was already taken.
    pub fn get(self) -> Option<Result<IncomingResponse, Option<ErrorCase>>> {
        let mut ret = ReturnArea::new();
        unsafe { future_incoming_response_get(self, ret.ptr()) };
        if ret.byte(0) == 0 {
            return None;
        }
        // The inner result is there only when the outer one is `ok`.
        Some(match ret.byte(8) {
            0 if ret.byte(16) == 0 => Ok(IncomingResponse(ret.word(24))),
            0 => Err(Some(ret.byte(24))),
            _ => Err(None),
        })
    }
}

impl IncomingResponse {
    pub fn status(self) -> u16 {
        unsafe { incoming_response_status(self) as u16 }
    }

    pub fn consume(self) -> Result<IncomingBody, ()> {
        let mut ret = ReturnArea::new();
        unsafe { incoming_response_consume(self, ret.ptr()) };
        ret.handle().map(IncomingBody)
    }

    pub fn release(self) {
        unsafe { incoming_response_drop(self) }
    }
}

impl IoError {
    /// `http-error-code`: what a stream error meant, when it came from HTTP.
    pub fn http_case(self) -> Option<ErrorCase> {
        let mut ret = ReturnArea::new();
        unsafe { http_error_code(self, ret.ptr()) };
        match ret.byte(0) {
            0 => None,
            _ => Some(ret.byte(8)),
        }
    }
}

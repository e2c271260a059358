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

#[repr(transparent)]
pub struct OutgoingRequest(i32);
#[repr(transparent)]
pub struct RequestOptions(i32);
#[repr(transparent)]
pub struct FutureIncomingResponse(i32);
#[repr(transparent)]
pub struct IncomingResponse(i32);

#[link(wasm_import_module = "wasi:http/types@0.2.12")]
unsafe extern "C" {
    #[link_name = "[constructor]outgoing-request"]
    fn outgoing_request_new(headers: Fields) -> OutgoingRequest;
    #[link_name = "[method]outgoing-request.set-method"]
    fn outgoing_request_set_method(request: i32, case: i32, other: *const u8, len: usize) -> i32;
    #[link_name = "[method]outgoing-request.set-scheme"]
    fn outgoing_request_set_scheme(request: i32, is_some: i32, case: i32, other: *const u8, len: usize) -> i32;
    #[link_name = "[method]outgoing-request.set-authority"]
    fn outgoing_request_set_authority(request: i32, is_some: i32, text: *const u8, len: usize) -> i32;
    #[link_name = "[method]outgoing-request.set-path-with-query"]
    fn outgoing_request_set_path_with_query(request: i32, is_some: i32, text: *const u8, len: usize) -> i32;
    #[link_name = "[method]outgoing-request.body"]
    fn outgoing_request_body(request: i32, ret: *mut u8);
    #[link_name = "[constructor]request-options"]
    fn request_options_new() -> RequestOptions;
    #[link_name = "[method]request-options.set-connect-timeout"]
    fn request_options_set_connect_timeout(options: i32, is_some: i32, ns: u64) -> i32;
    #[link_name = "[method]request-options.set-first-byte-timeout"]
    fn request_options_set_first_byte_timeout(options: i32, is_some: i32, ns: u64) -> i32;
    #[link_name = "[resource-drop]request-options"]
    fn request_options_drop(options: RequestOptions);
    #[link_name = "[method]future-incoming-response.subscribe"]
    fn future_incoming_response_subscribe(future: i32) -> Pollable;
    #[link_name = "[method]future-incoming-response.get"]
    fn future_incoming_response_get(future: i32, ret: *mut u8);
    #[link_name = "[method]incoming-response.status"]
    fn incoming_response_status(response: i32) -> i32;
    #[link_name = "[method]incoming-response.headers"]
    fn incoming_response_headers(response: i32) -> Fields;
    #[link_name = "[method]incoming-response.consume"]
    fn incoming_response_consume(response: i32, ret: *mut u8);
    #[link_name = "[resource-drop]future-incoming-response"]
    fn future_incoming_response_drop(future: FutureIncomingResponse);
    #[link_name = "[resource-drop]incoming-response"]
    fn incoming_response_drop(response: IncomingResponse);
    #[link_name = "http-error-code"]
    fn http_error_code(error: i32, ret: *mut u8);
}

#[link(wasm_import_module = "wasi:http/outgoing-handler@0.2.12")]
unsafe extern "C" {
    #[link_name = "handle"]
    fn outgoing_handle(request: OutgoingRequest, has_options: i32, options: RequestOptions, ret: *mut u8);
}

/// The cases of WIT's `method`, in order; any other method goes as `other(text)`.
pub(super) const METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

impl OutgoingRequest {
    pub fn new(headers: Fields) -> OutgoingRequest {
        // SAFETY: the constructor consumes the headers and returns a request we own.
        unsafe { outgoing_request_new(headers) }
    }

    /// Sets the method, the scheme, the authority and the path; false when the host refuses one.
    pub fn set_target(&self, method: &str, https: bool, authority: &str, path_with_query: &str) -> bool {
        let case = METHODS.iter().position(|known| *known == method).unwrap_or(METHODS.len());
        // SAFETY: the request is borrowed, each text valid for its call, which copies it; the
        // scheme's `other` payload is absent (case 0 or 1).
        unsafe {
            outgoing_request_set_method(self.0, case as i32, method.as_ptr(), method.len()) == 0
                && outgoing_request_set_scheme(self.0, 1, i32::from(https), core::ptr::null(), 0) == 0
                && outgoing_request_set_authority(self.0, 1, authority.as_ptr(), authority.len()) == 0
                && outgoing_request_set_path_with_query(self.0, 1, path_with_query.as_ptr(), path_with_query.len()) == 0
        }
    }

    pub fn body(&self) -> Result<OutgoingBody, ()> {
        let mut ret = ReturnArea::new();
        // SAFETY: the request is borrowed for the call; `ret` fits a `result<own<outgoing-body>>`.
        unsafe { outgoing_request_body(self.0, ret.ptr()) };
        ret.handle().map(OutgoingBody)
    }
}

impl RequestOptions {
    /// Options with the connect and first-byte timeouts set (the hosts' default is 600 s); `None`
    /// when the host refuses either (a host may not support one), so that the request goes with
    /// the host's defaults rather than with half of what was asked; the relay's own deadline
    /// bounds every wait either way.
    pub fn with_timeouts(connect_ns: u64, first_byte_ns: u64) -> Option<RequestOptions> {
        // SAFETY: a constructor without arguments; the options it returns are ours.
        let options = unsafe { request_options_new() };
        // SAFETY: the options are borrowed for each call.
        let accepted = unsafe {
            request_options_set_connect_timeout(options.0, 1, connect_ns) == 0
                && request_options_set_first_byte_timeout(options.0, 1, first_byte_ns) == 0
        };
        if accepted {
            return Some(options);
        }
        // SAFETY: the options were never handed to the host: ours to drop, consumed here.
        unsafe { request_options_drop(options) };
        None
    }
}

/// `outgoing-handler.handle`: starts the request, with the options when there are any. Both are
/// consumed.
pub fn send(request: OutgoingRequest, options: Option<RequestOptions>) -> Result<FutureIncomingResponse, ErrorCase> {
    let mut ret = ReturnArea::new();
    let (has_options, options) = match options {
        Some(options) => (1, options),
        None => (0, RequestOptions(0)),
    };
    // SAFETY: the request and the options (when `has_options`) are ours, and the call consumes
    // them; `ret` fits a `result<own<future-incoming-response>, error-code>`.
    unsafe { outgoing_handle(request, has_options, options, ret.ptr()) };
    match ret.byte(0) {
        0 => Ok(FutureIncomingResponse(ret.word(8))),
        _ => Err(ret.byte(8)),
    }
}

impl FutureIncomingResponse {
    pub fn subscribe(&self) -> Pollable {
        // SAFETY: the future is borrowed for the call; the pollable is its child, released first.
        unsafe { future_incoming_response_subscribe(self.0) }
    }

    pub fn release(self) {
        // SAFETY: the future is ours, and this consumes it.
        unsafe { future_incoming_response_drop(self) }
    }

    /// `None` while pending; `Some(Err(None))` if the response was already taken.
    pub fn get(&self) -> Option<Result<IncomingResponse, Option<ErrorCase>>> {
        let mut ret = ReturnArea::new();
        // SAFETY: the future is borrowed for the call; `ret` fits the 56-byte
        // `option<result<result<own<incoming-response>, error-code>>>`.
        unsafe { future_incoming_response_get(self.0, ret.ptr()) };
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
    pub fn status(&self) -> u16 {
        // SAFETY: the response is borrowed for the call.
        unsafe { incoming_response_status(self.0) as u16 }
    }

    /// The response's headers (a child of the response, released before it).
    pub fn headers(&self) -> Fields {
        // SAFETY: the response is borrowed for the call; the fields it returns are ours.
        unsafe { incoming_response_headers(self.0) }
    }

    pub fn consume(&self) -> Result<IncomingBody, ()> {
        let mut ret = ReturnArea::new();
        // SAFETY: the response is borrowed for the call; the body is its child, released first.
        unsafe { incoming_response_consume(self.0, ret.ptr()) };
        ret.handle().map(IncomingBody)
    }

    pub fn release(self) {
        // SAFETY: the response is ours, and this consumes it.
        unsafe { incoming_response_drop(self) }
    }
}

impl IoError {
    /// `http-error-code`: what a stream error meant, when it came from HTTP. The error itself is
    /// left to the instance's end: a `[resource-drop]error` import would cost more than the few
    /// failed streams of a request hold.
    pub fn http_case(&self) -> Option<ErrorCase> {
        let mut ret = ReturnArea::new();
        // SAFETY: the error is borrowed for the call; `ret` fits an `option<error-code>`.
        unsafe { http_error_code(self.0, ret.ptr()) };
        match ret.byte(0) {
            0 => None,
            _ => Some(ret.byte(8)),
        }
    }
}

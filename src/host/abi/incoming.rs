//! The server side of `wasi:http` (the HTTP component only): the client's request and the response.

use super::{Fields, IncomingBody, OutgoingBody, ReturnArea};

#[repr(transparent)]
pub struct IncomingRequest(i32);
#[repr(transparent)]
pub struct OutgoingResponse(i32);
#[repr(transparent)]
pub struct ResponseOutparam(i32);

#[link(wasm_import_module = "wasi:http/types@0.2.12")]
unsafe extern "C" {
    #[link_name = "[method]incoming-request.method"]
    fn incoming_request_method(request: i32, ret: *mut u8);
    #[link_name = "[method]incoming-request.headers"]
    fn incoming_request_headers(request: i32) -> Fields;
    #[link_name = "[method]incoming-request.path-with-query"]
    fn incoming_request_path_with_query(request: i32, ret: *mut u8);
    #[link_name = "[method]incoming-request.consume"]
    fn incoming_request_consume(request: i32, ret: *mut u8);
    #[link_name = "[resource-drop]incoming-request"]
    fn incoming_request_drop(request: IncomingRequest);
    #[link_name = "[constructor]outgoing-response"]
    fn outgoing_response_new(headers: Fields) -> OutgoingResponse;
    #[link_name = "[method]outgoing-response.set-status-code"]
    fn outgoing_response_set_status_code(response: i32, status: i32) -> i32;
    #[link_name = "[method]outgoing-response.body"]
    fn outgoing_response_body(response: i32, ret: *mut u8);
    #[link_name = "[static]response-outparam.set"]
    fn response_outparam_set(
        out: ResponseOutparam,
        is_err: i32,
        response: OutgoingResponse,
        a: i32,
        b: i64,
        c: i32,
        d: i32,
        e: i32,
        f: i32,
    );
}

impl IncomingRequest {
    /// The request the host passes to the export, which the export then owns.
    pub fn from_handle(handle: i32) -> IncomingRequest {
        IncomingRequest(handle)
    }

    /// The method, spelled as the client sent it: `method`'s cases in the order of `METHODS`
    /// (pinned by tests/abi_layout.rs), then `other(string)`.
    pub fn method(&self) -> &'static str {
        let mut ret = ReturnArea::new();
        // SAFETY: the request is borrowed for the call; `ret` fits a `method`.
        unsafe { incoming_request_method(self.0, ret.ptr()) };
        match super::METHODS.get(usize::from(ret.byte(0))) {
            Some(known) => known,
            // SAFETY: the canonical ABI lowered a string, UTF-8, at offset 4.
            None => unsafe { super::str_from_host(ret.list::<u8>(4)) },
        }
    }

    /// The request's headers (a child of the request, released before it).
    pub fn headers(&self) -> Fields {
        // SAFETY: the request is borrowed for the call; the fields it returns are ours.
        unsafe { incoming_request_headers(self.0) }
    }

    pub fn path_with_query(&self) -> &'static [u8] {
        let mut ret = ReturnArea::new();
        // SAFETY: the request is borrowed for the call; `ret` fits an `option<string>`.
        unsafe { incoming_request_path_with_query(self.0, ret.ptr()) };
        if ret.byte(0) == 0 {
            return &[];
        }
        ret.list(4)
    }

    pub fn consume(&self) -> Result<IncomingBody, ()> {
        let mut ret = ReturnArea::new();
        // SAFETY: the request is borrowed for the call; the body is its child, released first.
        unsafe { incoming_request_consume(self.0, ret.ptr()) };
        ret.handle().map(IncomingBody)
    }

    pub fn release(self) {
        // SAFETY: the request is ours, and this consumes it.
        unsafe { incoming_request_drop(self) }
    }
}

impl OutgoingResponse {
    /// A response with `status`; `Err` when the host refuses the status (the response is then
    /// left to the instance's end: without a body it holds nothing).
    pub fn new(headers: Fields, status: u16) -> Result<OutgoingResponse, ()> {
        // SAFETY: the constructor consumes the headers; the setter borrows the new response.
        unsafe {
            let response = outgoing_response_new(headers);
            if outgoing_response_set_status_code(response.0, i32::from(status)) != 0 {
                return Err(());
            }
            Ok(response)
        }
    }

    pub fn body(&self) -> Result<OutgoingBody, ()> {
        let mut ret = ReturnArea::new();
        // SAFETY: the response is borrowed for the call; `ret` fits a `result<own<outgoing-body>>`.
        unsafe { outgoing_response_body(self.0, ret.ptr()) };
        ret.handle().map(OutgoingBody)
    }
}

impl ResponseOutparam {
    /// The response slot the host passes to the export, which the export then owns.
    pub fn from_handle(handle: i32) -> ResponseOutparam {
        ResponseOutparam(handle)
    }

    /// `response-outparam.set` with a response (never an error: the relay answers every failure itself).
    pub fn set(self, response: OutgoingResponse) {
        // SAFETY: both are ours, and this consumes both; the error payload is absent (`is_err` 0).
        unsafe { response_outparam_set(self, 0, response, 0, 0, 0, 0, 0, 0) }
    }
}

//! The server side of `wasi:http` (the HTTP component only): the client's request and the response.

use super::{Fields, IncomingBody, OutgoingBody, ReturnArea};

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
    #[link_name = "[resource-drop]incoming-request"]
    fn incoming_request_drop(request: IncomingRequest);
    #[link_name = "[constructor]outgoing-response"]
    fn outgoing_response_new(headers: Fields) -> OutgoingResponse;
    #[link_name = "[method]outgoing-response.set-status-code"]
    fn outgoing_response_set_status_code(response: OutgoingResponse, status: i32) -> i32;
    #[link_name = "[method]outgoing-response.body"]
    fn outgoing_response_body(response: OutgoingResponse, ret: *mut u8);
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
    /// The request the host passes to the export.
    pub fn from_handle(handle: i32) -> IncomingRequest {
        IncomingRequest(handle)
    }

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

    pub fn release(self) {
        unsafe { incoming_request_drop(self) }
    }
}

impl OutgoingResponse {
    /// A response with `status`; `Err` when the host refuses the status (it then owns nothing
    /// the relay must hand back but the response, which goes with the instance).
    pub fn new(headers: Fields, status: u16) -> Result<OutgoingResponse, ()> {
        // SAFETY: the constructor takes the headers' handle, the setter borrows the response's.
        unsafe {
            let response = outgoing_response_new(headers);
            if outgoing_response_set_status_code(response, i32::from(status)) != 0 {
                return Err(());
            }
            Ok(response)
        }
    }

    pub fn body(self) -> Result<OutgoingBody, ()> {
        let mut ret = ReturnArea::new();
        unsafe { outgoing_response_body(self, ret.ptr()) };
        ret.handle().map(OutgoingBody)
    }
}

impl ResponseOutparam {
    /// The response slot the host passes to the export.
    pub fn from_handle(handle: i32) -> ResponseOutparam {
        ResponseOutparam(handle)
    }

    /// `response-outparam.set` with a response (never an error: the relay answers every failure itself).
    pub fn set(self, response: OutgoingResponse) {
        unsafe { response_outparam_set(self, 0, response, 0, 0, 0, 0, 0, 0) }
    }
}

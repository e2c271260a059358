//! `wasi:http/incoming-handler`: read the client's request, relay it, write the answer.

use alloc::vec::Vec;

use super::abi::{self, Fields, Header, IncomingRequest, OutgoingResponse, ResponseOutparam};
use super::outbound::exchange;
use super::streams::{write_all, ChunkReader};
use crate::error::RelayError;
use crate::relay::{paths_of, write_answer, BodyCollector};
use crate::text::push_u64;

/// The export the host calls once per request, with the request and the slot for the response.
#[unsafe(export_name = "wasi:http/incoming-handler@0.2.12#handle")]
extern "C" fn handle(request: i32, response_out: i32) {
    super::runtime::start_request();
    let request = IncomingRequest::from_handle(request);
    let outcome = answer(request);
    request.release();
    let (status, body) = match outcome {
        Ok(answer) => (200, answer),
        Err(error) => {
            if error.status() >= 500 {
                log(&error);
            }
            (error.status(), error.to_json())
        }
    };
    respond(ResponseOutparam::from_handle(response_out), status, &body);
}

fn answer(request: IncomingRequest) -> Result<Vec<u8>, RelayError> {
    let path = request.path_with_query();
    let is_health = path.get(..8) == Some(b"/healthz") && matches!(path.get(8), None | Some(b'?'));
    if is_health && request.is_get_or_head() {
        return Ok(br#"{"status":"ok"}"#.to_vec());
    }
    let config = super::settings::load()?;
    let body = read_body(request, config.max_request_bytes)?;
    let paths = paths_of(&config.job.fields);
    let values = exchange(&config.job, &paths, &body)?;
    Ok(write_answer(&config.job.fields, &values))
}

fn read_body(request: IncomingRequest, limit: u64) -> Result<Vec<u8>, RelayError> {
    let mut collector = BodyCollector::new(limit);
    let body = request.consume().map_err(|()| broken_request())?;
    let stream = body.stream().map_err(|()| broken_request())?;
    ChunkReader::drain(body, stream, None, |chunk| collector.push(chunk), |_| broken_request())?;
    collector.finish()
}

/// The client's body stream failed: what arrived is not a complete document.
fn broken_request() -> RelayError {
    RelayError::InvalidJson(crate::json::JsonError { kind: crate::json::JsonErrorKind::UnexpectedEnd, offset: 0 })
}

/// Sends the answer. A client that hung up makes the writes fail; that ends the request quietly.
fn respond(response_out: ResponseOutparam, status: u16, body: &[u8]) {
    let mut length = alloc::string::String::new();
    push_u64(&mut length, body.len() as u64);
    let headers = [Header::new("content-type", b"application/json"), Header::new("content-length", length.as_bytes())];
    let Ok(headers) = Fields::from_list(&headers) else { return };
    let response = OutgoingResponse::new(headers, status);
    let Ok(outgoing) = response.body() else { return };
    response_out.set(response);
    if let Ok(stream) = outgoing.write() {
        if write_all(stream, body, None).is_ok() {
            let _ = outgoing.finish();
        }
    }
}

/// One line on stderr for a failure that is the operator's to fix (never a header or a body).
fn log(error: &RelayError) {
    let mut line = alloc::string::String::from("edge-relay: ");
    line.push_str(error.code());
    line.push_str(": ");
    line.push_str(&error.message());
    line.push('\n');
    let _ = write_all(abi::stderr(), line.as_bytes(), None);
}

//! `wasi:http/incoming-handler`: read the client's request, relay it, write the answer.

use alloc::vec::Vec;

use wasi::exports::http::incoming_handler::Guest;
use wasi::http::types::{Fields, IncomingRequest, Method, OutgoingResponse, ResponseOutparam};

use super::http_abi;
use super::outbound::exchange;
use super::streams::{read_each, write_all};
use crate::text::push_u64;
use crate::error::RelayError;
use crate::relay::{parse_content_length, paths_of, write_answer, BodyCollector};

struct HttpRelay;

wasi::http::proxy::export!(HttpRelay);

impl Guest for HttpRelay {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let (status, body) = match answer(&request) {
            Ok(answer) => (200, answer),
            Err(error) => {
                if error.status() >= 500 {
                    log(&error);
                }
                (error.status(), error.to_json())
            }
        };
        respond(response_out, status, &body);
    }
}

fn answer(request: &IncomingRequest) -> Result<Vec<u8>, RelayError> {
    let path = request.path_with_query().unwrap_or_default();
    let path = crate::text::split(&path, b'?').next().unwrap_or("");
    if path == "/healthz" && matches!(request.method(), Method::Get | Method::Head) {
        return Ok(br#"{"status":"ok"}"#.to_vec());
    }
    let config = super::settings::load()?;
    let body = read_body(request, config.max_request_bytes)?;
    let paths = paths_of(&config.job.fields);
    let values = exchange(&config.job, &paths, &body)?;
    Ok(write_answer(&config.job.fields, &values))
}

fn read_body(request: &IncomingRequest, limit: u64) -> Result<Vec<u8>, RelayError> {
    let declared = request.headers().get("content-length").first().and_then(|v| parse_content_length(v));
    let mut collector = BodyCollector::new(limit, declared)?;
    let incoming = request.consume().map_err(|()| broken_request())?;
    let stream = incoming.stream().map_err(|()| broken_request())?;
    read_each(&stream, None, |chunk| collector.push(chunk), |_| broken_request())?;
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
    let headers = Fields::new();
    let _ = headers.append("content-type", b"application/json");
    let _ = headers.append("content-length", length.as_bytes());
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(status);
    let Ok(outgoing) = response.body() else { return };
    http_abi::set_response(response_out, response);
    if let Ok(stream) = outgoing.write() {
        let _ = write_all(&stream, body, None);
    }
    let _ = http_abi::finish(outgoing);
}

/// One line on stderr for a failure that is the operator's to fix (never a header or a body).
fn log(error: &RelayError) {
    let mut line = alloc::string::String::from("edge-relay: ");
    line.push_str(error.code());
    line.push_str(": ");
    line.push_str(&error.message());
    line.push('\n');
    let _ = wasi::cli::stderr::get_stderr().blocking_write_and_flush(line.as_bytes());
}

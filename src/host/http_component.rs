//! `wasi:http/incoming-handler`: read the client's request, relay it, write the answer.

use alloc::vec::Vec;

use super::abi::{self, Fields, Header, IncomingRequest, OutgoingResponse, ResponseOutparam};
use super::outbound::exchange;
use super::streams::{drain, write_all, Deadline, StreamFailure};
use crate::config::{Config, DEFAULT_DEADLINE_MS, DEFAULT_TIMEOUT_MS};
use crate::error::RelayError;
use crate::relay::{paths_of, write_answer, BodyCollector};
use crate::text::push_u64;

/// The export the host calls once per request, with the request and the slot for the response.
#[unsafe(export_name = "wasi:http/incoming-handler@0.2.12#handle")]
extern "C" fn handle(request: i32, response_out: i32) {
    super::runtime::start_request();
    let request = IncomingRequest::from_handle(request);
    let config = super::settings::load();
    // The answer is written within the exchange's limits too: a client that never reads it
    // cannot hold the instance, and its memory, for ever.
    let (pause_ms, whole_ms) = match &config {
        Ok(config) => (config.job.timeout_ms, config.job.deadline_ms),
        Err(_) => (DEFAULT_TIMEOUT_MS, DEFAULT_DEADLINE_MS),
    };
    let outcome = answer(&request, config);
    request.release();
    let (status, body) = match outcome {
        Ok(answer) => answer,
        Err(error) => {
            if matches!(error, RelayError::BodyOverMemory | RelayError::AnswerOverMemory) {
                // What filled the memory is dead now (the error holds none of it): the heap starts
                // over, so that the error's own few bytes fit.
                super::runtime::start_request();
            }
            if error.status() >= 500 {
                log(&error);
            }
            (error.status(), error.to_json())
        }
    };
    respond(ResponseOutparam::from_handle(response_out), status, &body, Deadline::new(pause_ms, whole_ms));
}

/// The status and body of the answer. `/healthz` is the relay's own: 200 when the configuration
/// reads, 503 with the configuration's error code when it does not, so that a rollout's health
/// check catches a broken deploy before users do.
fn answer(request: &IncomingRequest, config: Result<Config, RelayError>) -> Result<(u16, Vec<u8>), RelayError> {
    let path = request.path_with_query();
    let is_health = path.get(..8) == Some(b"/healthz") && matches!(path.get(8), None | Some(b'?'));
    if is_health && request.is_get_or_head() {
        return Ok(match config {
            Ok(_) => (200, br#"{"status":"ok"}"#.to_vec()),
            Err(error) => {
                log(&error);
                (503, error.to_json())
            }
        });
    }
    let config = config?;
    let body = read_body(request, &config)?;
    let paths = paths_of(&config.job.fields);
    let values = exchange(&config.job, &paths, &body)?;
    Ok((200, write_answer(&config.job.fields, &values)?))
}

fn read_body(request: &IncomingRequest, config: &Config) -> Result<Vec<u8>, RelayError> {
    let mut collector = BodyCollector::new(config.max_request_bytes);
    let body = request.consume().map_err(|()| broken_request())?;
    let stream = body.stream().map_err(|()| broken_request())?;
    let mut deadline = Deadline::new(config.job.timeout_ms, config.job.deadline_ms);
    drain(body, stream, &mut deadline, &mut collector, |failure| match failure {
        StreamFailure::TimedOut { whole } => {
            RelayError::RequestTimeout { timeout_ms: if whole { config.job.deadline_ms } else { config.job.timeout_ms } }
        }
        StreamFailure::OutOfMemory => RelayError::BodyOverMemory,
        _ => broken_request(),
    })?;
    collector.finish()
}

/// The client's body stream failed: what arrived is not a complete document.
fn broken_request() -> RelayError {
    RelayError::InvalidJson(crate::json::JsonError { kind: crate::json::JsonErrorKind::UnexpectedEnd, offset: 0 })
}

/// Sends the answer within `deadline`. A client that hung up makes the writes fail, and one that
/// stops reading makes them wait until the deadline; either ends the request quietly, the body
/// left unfinished so that the host aborts the response instead of passing a short one for whole.
fn respond(response_out: ResponseOutparam, status: u16, body: &[u8], mut deadline: Deadline) {
    let mut length = alloc::string::String::new();
    push_u64(&mut length, body.len() as u64);
    let headers = [Header::new("content-type", b"application/json"), Header::new("content-length", length.as_bytes())];
    let Ok(headers) = Fields::from_list(&headers) else { return };
    let Ok(response) = OutgoingResponse::new(headers, status) else { return };
    let Ok(outgoing) = response.body() else { return };
    response_out.set(response);
    let written = match outgoing.write() {
        Ok(stream) => write_all(stream, body, &mut deadline, None).is_ok(),
        Err(()) => false,
    };
    if written {
        let _ = outgoing.finish();
    } else {
        outgoing.abandon();
    }
}

/// One line on stderr for a failure that is the operator's to fix (never a header or a body).
fn log(error: &RelayError) {
    let _ = write_all(abi::stderr(), &error.log_line(true), &mut Deadline::new(DEFAULT_TIMEOUT_MS, DEFAULT_TIMEOUT_MS), None);
}

//! One upstream exchange over `wasi:http/outgoing-handler`: send the body with its length,
//! stream the answer into a [`Projection`], and map every host failure to a [`RelayError`].

use alloc::string::String;
use alloc::vec::Vec;

use super::abi::{self, ErrorCase, Fields, Header, IncomingResponse, OutgoingRequest, RequestOptions, StreamError};
use super::streams::{write_all, ChunkReader, StreamFailure};
use crate::config::{Job, Scheme};
use crate::error::RelayError;
use crate::path::Path;
use crate::relay::{check_status, upstream_headers, Projection};
use crate::text::push_u64;

/// Sends `body` to the job's upstream and returns the values found at `paths` in its answer.
pub fn exchange(job: &Job, paths: &[&Path], body: &[u8]) -> Result<Vec<Option<Vec<u8>>>, RelayError> {
    // Not `saturating_mul`, which costs a 128-bit multiplication routine on wasm32.
    let timeout_ns = job.timeout_ms.min(u64::MAX / 1_000_000) * 1_000_000;

    let mut length = String::new();
    push_u64(&mut length, body.len() as u64);
    let mut headers = Vec::new();
    upstream_headers(job, &length, |name, value| headers.push(Header::new(name, value)));
    let headers = Fields::from_list(&headers)
        .map_err(|()| RelayError::config("RELAY_UPSTREAM_HEADERS", "the host refuses one of these headers"))?;
    let request = OutgoingRequest::new(headers);
    let upstream = &job.upstream;
    if !request.set_target(&job.method, upstream.scheme == Scheme::Https, &upstream.authority, &upstream.path_and_query) {
        return Err(RelayError::config("RELAY_UPSTREAM_URL", "the host refuses this URL or method"));
    }
    // Both hosts otherwise wait 600 s. The between-bytes limit is applied by `ChunkReader` instead:
    // wasmtime reports its own expiry as a bare stream error, indistinguishable from a reset.
    let options = RequestOptions::with_timeouts(timeout_ns);

    let outgoing_body = request.body().map_err(|()| contract_broken())?;
    let pending = abi::send(request, options).map_err(|case| map_error_case(case, job))?;

    // A failed write is not reported here: the upstream may have answered early (a 413, say), and
    // when it did not, the response future carries the real reason. The body is finished only
    // when all of it went out, so that a short body is never taken for a whole one.
    let sent = match outgoing_body.write() {
        Ok(stream) => write_all(stream, body, Some(timeout_ns)),
        Err(()) => Err(StreamFailure::Broken(StreamError::Closed)),
    };
    match sent {
        Ok(()) => {
            let _ = outgoing_body.finish();
        }
        Err(StreamFailure::TimedOut) => {
            outgoing_body.abandon();
            return Err(RelayError::UpstreamTimeout { timeout_ms: job.timeout_ms });
        }
        Err(StreamFailure::Broken(_)) => outgoing_body.abandon(),
    }

    let ready = pending.subscribe();
    let response = loop {
        match pending.get() {
            Some(Ok(response)) => break Ok(response),
            Some(Err(Some(case))) => break Err(map_error_case(case, job)),
            Some(Err(None)) => break Err(contract_broken()),
            None => abi::poll(&[ready]),
        }
    };
    // Handed back to the host, children first, whatever the outcome, so that an instance serving
    // many requests holds none of them.
    ready.release();
    pending.release();
    let response = response?;
    let values = project(response, paths, job, timeout_ns);
    response.release();
    values
}

fn project(response: IncomingResponse, paths: &[&Path], job: &Job, timeout_ns: u64) -> Result<Vec<Option<Vec<u8>>>, RelayError> {
    check_status(response.status())?;
    let mut projection = Projection::new(paths, job.max_response_bytes);
    let body = response.consume().map_err(|()| contract_broken())?;
    let stream = body.stream().map_err(|()| contract_broken())?;
    ChunkReader::drain(body, stream, Some(timeout_ns), |chunk| projection.push(chunk), |failure| match failure {
        StreamFailure::Broken(error) => map_stream_error(error, job),
        StreamFailure::TimedOut => RelayError::UpstreamTimeout { timeout_ms: job.timeout_ms },
    })?;
    projection.finish()
}

/// A `wasi:http` call failed in a way its contract rules out (a response taken twice, say).
fn contract_broken() -> RelayError {
    unreachable_because("the host broke the wasi:http contract")
}

fn unreachable_because(detail: &'static str) -> RelayError {
    RelayError::UpstreamUnreachable { detail }
}

fn map_stream_error(error: StreamError, job: &Job) -> RelayError {
    if let StreamError::Failed(error) = error {
        if let Some(case) = error.http_case() {
            return map_error_case(case, job);
        }
    }
    unreachable_because("the connection failed mid-answer")
}

fn map_error_case(case: ErrorCase, job: &Job) -> RelayError {
    let detail = match case {
        abi::DNS_TIMEOUT | abi::CONNECTION_TIMEOUT..=abi::CONNECTION_WRITE_TIMEOUT | abi::HTTP_RESPONSE_TIMEOUT => {
            return RelayError::UpstreamTimeout { timeout_ms: job.timeout_ms }
        }
        abi::HTTP_RESPONSE_BODY_SIZE => return RelayError::UpstreamTooLarge { limit: job.max_response_bytes },
        abi::DNS_ERROR | abi::DESTINATION_NOT_FOUND => "its host name does not resolve",
        abi::CONNECTION_REFUSED => "the connection was refused",
        abi::CONNECTION_TERMINATED => "the connection closed mid-answer",
        abi::DESTINATION_UNAVAILABLE..=abi::DESTINATION_IP_UNROUTABLE => "its address cannot be reached",
        abi::HTTP_REQUEST_DENIED => "the host does not allow it (allowed_outbound_hosts)",
        abi::TLS_PROTOCOL_ERROR..=abi::TLS_ALERT_RECEIVED => "the TLS handshake failed",
        abi::HTTP_RESPONSE_INCOMPLETE => "the answer ended before its declared length",
        abi::HTTP_REQUEST_LENGTH_REQUIRED | abi::HTTP_REQUEST_BODY_SIZE => "it refused the request body",
        _ => "the HTTP exchange failed",
    };
    unreachable_because(detail)
}

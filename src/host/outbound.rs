//! One upstream exchange over `wasi:http/outgoing-handler`: send the body with its length,
//! stream the answer into a [`Projection`], and map every host failure to a [`RelayError`].

use alloc::vec::Vec;

use wasi::http::types::{Fields, IncomingResponse, Method, OutgoingRequest, RequestOptions, Scheme};
use wasi::io::streams::StreamError;

use super::http_abi::{self as abi, ErrorCase};
use super::streams::{read_each, write_all, StreamFailure};
use crate::config::{self, Job};
use crate::error::RelayError;
use crate::path::Path;
use crate::relay::{check_status, framing_headers, parse_content_length, Projection};

/// Sends `body` to the job's upstream and returns the values found at `paths` in its answer.
pub fn exchange(job: &Job, paths: &[&Path], body: &[u8]) -> Result<Vec<Option<Vec<u8>>>, RelayError> {
    let timeout_ns = job.timeout_ms.saturating_mul(1_000_000);

    let headers = Fields::new();
    let framing = framing_headers(job, body.len());
    let all = framing.iter().map(|(name, value)| (*name, value)).chain(job.headers.iter().map(|(name, value)| (name.as_str(), value)));
    for (name, value) in all {
        headers
            .append(name, value)
            .map_err(|_| RelayError::config("RELAY_UPSTREAM_HEADERS", "the host refuses one of these headers"))?;
    }
    let request = OutgoingRequest::new(headers);
    let scheme = match job.upstream.scheme {
        config::Scheme::Http => Scheme::Http,
        config::Scheme::Https => Scheme::Https,
    };
    let accepted = request.set_method(&method(&job.method)).is_ok()
        && request.set_scheme(Some(&scheme)).is_ok()
        && request.set_authority(Some(&job.upstream.authority)).is_ok()
        && request.set_path_with_query(Some(&job.upstream.path_and_query)).is_ok();
    if !accepted {
        return Err(RelayError::config("RELAY_UPSTREAM_URL", "the host refuses this URL or method"));
    }
    let options = RequestOptions::new();
    // Both hosts otherwise wait 600 s. The between-bytes limit is applied by `read_each` instead:
    // wasmtime reports its own expiry as a bare stream error, indistinguishable from a reset.
    let _ = options.set_connect_timeout(Some(timeout_ns));
    let _ = options.set_first_byte_timeout(Some(timeout_ns));

    let outgoing_body = request.body().map_err(|()| unreachable_because("the request body is unavailable"))?;
    let pending = abi::send(request, options).map_err(|case| map_error_case(case, job))?;

    // A failed write is not reported here: the upstream may have answered early (a 413, say), and
    // when it did not, the response future carries the real reason.
    let mut sent = false;
    if let Ok(stream) = outgoing_body.write() {
        match write_all(&stream, body, Some(timeout_ns)) {
            Ok(()) => sent = true,
            Err(StreamFailure::TimedOut) => return Err(RelayError::UpstreamTimeout { timeout_ms: job.timeout_ms }),
            Err(StreamFailure::Broken(_)) => {}
        }
    }
    if sent {
        let _ = abi::finish(outgoing_body);
    } else {
        drop(outgoing_body);
    }

    let response = loop {
        match abi::response(&pending) {
            Some(Ok(response)) => break response,
            Some(Err(Some(case))) => return Err(map_error_case(case, job)),
            Some(Err(None)) => return Err(unreachable_because("the response was already taken")),
            None => pending.subscribe().block(),
        }
    };
    project(response, paths, job)
}

fn project<'p>(response: IncomingResponse, paths: &'p [&'p Path], job: &Job) -> Result<Vec<Option<Vec<u8>>>, RelayError> {
    check_status(response.status())?;
    let declared = response.headers().get("content-length").first().and_then(|v| parse_content_length(v));
    let mut projection = Projection::new(paths, job.max_response_bytes, declared)?;
    let body = response.consume().map_err(|()| unreachable_because("the response body is unavailable"))?;
    let stream = body.stream().map_err(|()| unreachable_because("the response body is unavailable"))?;
    read_each(&stream, Some(job.timeout_ms.saturating_mul(1_000_000)), |chunk| projection.push(chunk), |failure| match failure {
        StreamFailure::Broken(error) => map_stream_error(error, job),
        StreamFailure::TimedOut => RelayError::UpstreamTimeout { timeout_ms: job.timeout_ms },
    })?;
    drop(stream);
    projection.finish()
}

fn method(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        other => Method::Other(other.into()),
    }
}

fn unreachable_because(detail: &'static str) -> RelayError {
    RelayError::UpstreamUnreachable { detail }
}

fn map_stream_error(error: StreamError, job: &Job) -> RelayError {
    match error {
        StreamError::Closed => unreachable_because("the connection closed before the answer was complete"),
        StreamError::LastOperationFailed(error) => match abi::stream_error_case(&error) {
            Some(case) => map_error_case(case, job),
            None => unreachable_because("the connection failed while the answer was read"),
        },
    }
}

fn map_error_case(case: ErrorCase, job: &Job) -> RelayError {
    let detail = match case {
        abi::DNS_TIMEOUT | abi::CONNECTION_TIMEOUT..=abi::CONNECTION_WRITE_TIMEOUT | abi::HTTP_RESPONSE_TIMEOUT => {
            return RelayError::UpstreamTimeout { timeout_ms: job.timeout_ms }
        }
        abi::HTTP_RESPONSE_BODY_SIZE => return RelayError::UpstreamTooLarge { limit: job.max_response_bytes },
        abi::DNS_ERROR | abi::DESTINATION_NOT_FOUND => "its host name does not resolve",
        abi::CONNECTION_REFUSED => "the connection was refused",
        abi::CONNECTION_TERMINATED => "the connection closed before the answer was complete",
        abi::DESTINATION_UNAVAILABLE..=abi::DESTINATION_IP_UNROUTABLE => "its address cannot be reached",
        abi::HTTP_REQUEST_DENIED => "the host does not allow requests to it (allowed_outbound_hosts)",
        abi::TLS_PROTOCOL_ERROR..=abi::TLS_ALERT_RECEIVED => "the TLS handshake failed",
        abi::HTTP_RESPONSE_INCOMPLETE => "the answer ended before its declared length",
        abi::HTTP_REQUEST_LENGTH_REQUIRED | abi::HTTP_REQUEST_BODY_SIZE => "it refused the request body",
        _ => "the HTTP exchange failed",
    };
    unreachable_because(detail)
}

//! One upstream exchange over `wasi:http/outgoing-handler`: send the body with its length while
//! watching for an early answer, stream the answer into the caller's reader, and map every host
//! failure to a [`RelayError`]. Every wait is bounded twice: by the job's pause limit
//! (`timeout_ms`, from the last progress) and by its deadline for the whole exchange.

use alloc::string::String;
use alloc::vec::Vec;

use super::abi::{
    self, ErrorCase, Fields, FutureIncomingResponse, Header, IncomingResponse, OutgoingBody, OutgoingRequest, Pollable, RequestOptions,
    StreamError,
};
use super::streams::{drain, nanoseconds, write_all, Deadline, StreamFailure};
use crate::config::{Job, Names, Scheme};
use crate::error::RelayError;
use crate::gateway::{disposition, is_relayable, redirect, Disposition, Headers};
use crate::relay::{upstream_headers, BodyCollector, Sink};
use crate::text::push_u64;

/// How an upstream answer is taken: which of its headers the client gets (`retry-after` of a 429
/// or 503 always), and whether its own JSON error bodies are relayed.
pub struct Rules<'a> {
    pub copy_headers: &'a Names,
    pub error_bodies: bool,
}

/// The body of an answer the upstream gave.
pub enum Shaped {
    /// A 2xx, its body read into the caller's reader.
    Read,
    /// The upstream's own JSON error body (`Rules::error_bodies`; never for the command).
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    Raw(Vec<u8>),
    /// Nothing: a 204 or a 304.
    Empty,
}

/// An answer from the upstream: its status, the headers the client gets, and what became of its
/// body (an error such as `upstream_status` keeps the headers: a 429's `retry-after`).
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub struct Answered {
    pub status: u16,
    pub headers: Headers<'static>,
    pub body: Result<Shaped, RelayError>,
}

/// The most of an upstream's error body relayed (`RELAY_UPSTREAM_ERRORS=body`).
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Sends `body` to the job's upstream, follows the redirects that stay on its origin (at most
/// [`MAX_REDIRECTS`](crate::gateway::MAX_REDIRECTS); `job` ends up with the last URL and method), and takes the answer by `rules`.
pub fn exchange(job: &mut Job, reader: &mut dyn Sink, mut body: &[u8], rules: &Rules) -> Result<Answered, RelayError> {
    let mut deadline = Deadline::new(job.timeout_ms, job.deadline_ms);
    let mut hops = 0;
    loop {
        let response = send(job, body, &mut deadline)?;
        let status = response.status();
        // Names as the host lists them, in lower case (as `serve` takes the client's): both hosts
        // hand over the names of the `http` crate's `HeaderName`, which lowercases every name it
        // holds (wasmtime's `fields.entries` is `name.as_str()`). A lowercased `String` per header
        // and case-insensitive lookups cost 176 bytes.
        let entries = response.headers().take_entries();
        let found = |name: &str| entries.iter().find(|entry| entry.name() == name).map(Header::value);
        let mut disposition = disposition(status);
        if disposition == Disposition::Redirect {
            match redirect(job, status, found("location"), hops) {
                Some((target, method)) => {
                    response.release();
                    hops += 1;
                    job.upstream = target;
                    if let Some(method) = method {
                        job.method = String::from(method);
                        body = &[];
                    }
                    continue;
                }
                None => disposition = Disposition::Refuse,
            }
        }
        let mut headers = Headers::new();
        for entry in entries {
            let name = entry.name();
            let keeps_retry = name == "retry-after" && matches!(status, 429 | 503);
            if keeps_retry || (rules.copy_headers.matches(name.as_bytes()) && is_relayable(name)) {
                headers.push((name, entry.value()));
            }
        }
        let encoded = is_encoded(found("content-encoding"));
        let body = match disposition {
            Disposition::Shape if encoded => Err(RelayError::UpstreamEncoded),
            Disposition::Shape => read(&response, reader, job, &mut deadline).map(|()| Shaped::Read),
            Disposition::Empty => Ok(Shaped::Empty),
            _ if rules.error_bodies && status >= 400 && !encoded => {
                error_body(&response, job, &mut deadline).ok_or(RelayError::UpstreamStatus { status })
            }
            _ => Err(RelayError::UpstreamStatus { status }),
        };
        response.release();
        return Ok(Answered { status, headers, body });
    }
}

/// Whether an answer's `content-encoding` is one the relay did not ask for (it asks for none).
pub(super) fn is_encoded(coding: Option<&[u8]>) -> bool {
    coding.is_some_and(|coding| !coding.trim_ascii().eq_ignore_ascii_case(b"identity"))
}

/// Sends one request to the job's upstream, its body included; the answer is still to come.
pub fn start(job: &Job, body: &[u8], deadline: &mut Deadline) -> Result<Pending, RelayError> {
    let mut length = String::new();
    push_u64(&mut length, body.len() as u64);
    let mut headers = Vec::new();
    upstream_headers(job, &length, |name, value| headers.push(Header::new(name, value)));
    let headers =
        Fields::from_list(&headers).map_err(|()| RelayError::config("RELAY_UPSTREAM_HEADERS", "the host refuses one of these headers"))?;
    let request = OutgoingRequest::new(headers);
    let upstream = &job.upstream;
    if !request.set_target(&job.method, upstream.scheme == Scheme::Https, &upstream.authority, &upstream.path_and_query) {
        return Err(RelayError::config("RELAY_UPSTREAM_URL", "the host refuses this URL or method"));
    }
    // Both hosts otherwise wait 600 s. Connecting gets the pause limit; the first byte of the
    // answer the whole deadline, since the host's first-byte clock runs while the body is still
    // going out, and an upload that keeps moving is no timeout. The pauses after that are the
    // relay's own to time: wasmtime reports its between-bytes expiry as a bare stream error,
    // indistinguishable from a reset. The host's first-byte clock runs a quarter second past the
    // deadline, a backstop: the relay's own deadline, which started first, names the limit.
    let options = RequestOptions::with_timeouts(nanoseconds(job.timeout_ms), nanoseconds(job.deadline_ms) + 250_000_000);

    let outgoing_body = request.body().map_err(|()| contract_broken())?;
    let pending = match abi::send(request, options) {
        Ok(pending) => pending,
        Err(case) => {
            // The request is the host's now; its body, unsent, goes back too.
            outgoing_body.abandon();
            return Err(map_error_case(case, job));
        }
    };
    let ready = pending.subscribe();
    match upload(outgoing_body, body, &ready, deadline, job) {
        Ok(()) => Ok(Pending { pending, ready }),
        Err(error) => {
            Pending { pending, ready }.release();
            Err(error)
        }
    }
}

/// A request sent, its answer still to come: the future and its pollable, handed back together.
pub struct Pending {
    pub pending: FutureIncomingResponse,
    pub ready: Pollable,
}

impl Pending {
    /// The answer's head, once it is there: `None` while it is not, else the response or why
    /// there is none.
    pub fn get(&self, job: &Job) -> Option<Result<IncomingResponse, RelayError>> {
        match self.pending.get()? {
            Ok(response) => Some(Ok(response)),
            Err(Some(case)) => Some(Err(map_error_case(case, job))),
            Err(None) => Some(Err(contract_broken())),
        }
    }

    /// Hands both back to the host, children first, whatever the outcome, so that an instance
    /// serving many requests holds none of them.
    pub fn release(self) {
        self.ready.release();
        self.pending.release();
    }
}

/// One request to the job's upstream, up to its answer's head.
fn send(job: &Job, body: &[u8], deadline: &mut Deadline) -> Result<IncomingResponse, RelayError> {
    let pending = start(job, body, deadline)?;
    let response = loop {
        if let Some(answered) = pending.get(job) {
            break answered;
        }
        if let Err(failure) = deadline.wait(&[&pending.ready]) {
            break Err(stream_failure(failure, job));
        }
    };
    pending.release();
    response
}

/// Sends `body`. An upstream may answer before it has read the whole body (a 413, say) and stop
/// reading: the write then stops (`ready`, the answer's pollable, is watched), and that answer is
/// the one relayed. A failed write is not reported either: when the upstream did not answer, the
/// response future carries the real reason. The body is finished only when all of it went out,
/// so that a short body is never taken for a whole one.
fn upload(outgoing_body: OutgoingBody, body: &[u8], ready: &Pollable, deadline: &mut Deadline, job: &Job) -> Result<(), RelayError> {
    let sent = match outgoing_body.write() {
        Ok(stream) => write_all(stream, body, deadline, Some(ready)),
        Err(()) => Err(StreamFailure::Broken(StreamError::Closed)),
    };
    match sent {
        Ok(()) => {
            let _ = outgoing_body.finish();
        }
        Err(StreamFailure::TimedOut { whole }) => {
            outgoing_body.abandon();
            return Err(timed_out(whole, job));
        }
        Err(_) => outgoing_body.abandon(),
    }
    // The pause limit runs from the last byte handed to the host. Bytes still in the sockets'
    // buffers then (a few MB on loopback) count as sent: no host shows how far the upstream has
    // read them, as with any proxy's timeouts.
    deadline.progress();
    Ok(())
}

/// The upstream's error body when it is JSON and at most [`MAX_ERROR_BODY`] bytes.
fn error_body(response: &IncomingResponse, job: &Job, deadline: &mut Deadline) -> Option<Shaped> {
    let mut collector = BodyCollector::new(MAX_ERROR_BODY);
    let body = response.consume().ok()?;
    let stream = body.stream().ok()?;
    drain(body, stream, deadline, &mut collector, &|failure| stream_failure(failure, job)).ok()?;
    let bytes = collector.finish().ok()?;
    (!bytes.is_empty()).then_some(Shaped::Raw(bytes))
}

fn read(response: &IncomingResponse, reader: &mut dyn Sink, job: &Job, deadline: &mut Deadline) -> Result<(), RelayError> {
    let body = response.consume().map_err(|()| contract_broken())?;
    let stream = body.stream().map_err(|()| contract_broken())?;
    drain(body, stream, deadline, reader, &|failure| stream_failure(failure, job))
}

pub(super) fn timed_out(whole: bool, job: &Job) -> RelayError {
    RelayError::UpstreamTimeout { timeout_ms: job.limit_ms(whole) }
}

fn stream_failure(failure: StreamFailure, job: &Job) -> RelayError {
    match failure {
        StreamFailure::Broken(error) => map_stream_error(error, job),
        StreamFailure::TimedOut { whole } => timed_out(whole, job),
        StreamFailure::OutOfMemory => RelayError::AnswerOverMemory,
        StreamFailure::Interrupted => contract_broken(),
    }
}

/// A `wasi:http` call failed in a way its contract rules out (a response taken twice, say).
fn contract_broken() -> RelayError {
    unreachable_because("the host broke the wasi:http contract")
}

fn unreachable_because(detail: &'static str) -> RelayError {
    RelayError::UpstreamUnreachable { detail }
}

pub(super) fn map_stream_error(error: StreamError, job: &Job) -> RelayError {
    if let StreamError::Failed(error) = error {
        if let Some(case) = error.http_case() {
            return map_error_case(case, job);
        }
    }
    unreachable_because("the connection failed mid-answer")
}

fn map_error_case(case: ErrorCase, job: &Job) -> RelayError {
    let detail = match case {
        abi::DNS_TIMEOUT | abi::CONNECTION_TIMEOUT..=abi::CONNECTION_WRITE_TIMEOUT => return timed_out(false, job),
        // The host's first-byte timeout is set to the whole deadline.
        abi::HTTP_RESPONSE_TIMEOUT => return timed_out(true, job),
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

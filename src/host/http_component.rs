//! `wasi:http/incoming-handler`: read the client's request, relay it, write the answer.

use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, Ordering::Relaxed};

use super::abi::{self, Fields, Header, IncomingRequest, OutgoingResponse, ResponseOutparam};
use super::fanout::merge;
use super::outbound::{exchange, Rules, Shaped};
use super::streams::{drain, write_all, Deadline, StreamFailure};
use crate::answer::Reader;
use crate::config::{Config, Job, DEFAULT_DEADLINE_MS, DEFAULT_TIMEOUT_MS, NO_SHAPE};
use crate::error::RelayError;
use crate::gateway::{variables, Entry, Headers, Plan, Request};
use crate::relay::{paths_of, write_answer, BodyCollector, Projection};
use crate::shape::Shaper;
use crate::text::push_u64;

/// An answer to write: its status, its headers besides `content-type` and `content-length`, and
/// its body (`None` for none at all: a 204, a 304, a preflight).
struct Reply {
    status: u16,
    headers: Headers<'static>,
    body: Option<Vec<u8>>,
}

impl Reply {
    fn json(status: u16, body: Vec<u8>) -> Reply {
        Reply { status, headers: Headers::new(), body: Some(body) }
    }

    /// An error's answer, logged when it is the operator's to fix.
    fn error(error: &RelayError, headers: Headers<'static>) -> Reply {
        let status = error.status();
        if status >= 500 {
            log(error);
        }
        Reply { status, headers, body: Some(error.to_json()) }
    }
}

/// The response slot of the request being served, until it is answered (0: none; the canonical
/// ABI never hands out handle 0): what `out_of_memory` answers through.
static RESPONSE_SLOT: AtomicI32 = AtomicI32::new(0);

/// The memory ran out (`runtime`'s panic handler, on an empty heap): the request, if it is not
/// answered yet, gets the error's answer, as for any other error. (spin-sdk's std has a panic
/// handler of its own.)
#[cfg(not(feature = "spin-via-sdk"))]
pub fn out_of_memory() {
    let slot = RESPONSE_SLOT.swap(0, Relaxed);
    if slot != 0 {
        let error = RelayError::AnswerOverMemory;
        respond(
            ResponseOutparam::from_handle(slot),
            Reply::error(&error, Headers::new()),
            Deadline::new(DEFAULT_TIMEOUT_MS, DEFAULT_TIMEOUT_MS),
        );
    }
}

/// The export the host calls once per request, with the request and the slot for the response.
#[unsafe(export_name = "wasi:http/incoming-handler@0.2.12#handle")]
extern "C" fn handle(request: i32, response_out: i32) {
    super::runtime::start_request();
    RESPONSE_SLOT.store(response_out, Relaxed);
    let request = IncomingRequest::from_handle(request);
    // The answer is written within the exchange's limits too: a client that never reads it
    // cannot hold the instance, and its memory, for ever.
    let mut limits = (DEFAULT_TIMEOUT_MS, DEFAULT_DEADLINE_MS);
    let reply = serve(&request, &mut limits);
    request.release();
    let reply = reply.unwrap_or_else(|error| {
        // Out of memory: what filled it is dead now (`serve` has returned, and the error holds
        // none of it), so the heap starts over for the error's own few bytes. Its answer carries
        // no CORS headers: the configuration went with the heap.
        super::runtime::start_request();
        Reply::error(&error, Headers::new())
    });
    if RESPONSE_SLOT.swap(0, Relaxed) != 0 {
        respond(ResponseOutparam::from_handle(response_out), reply, Deadline::new(limits.0, limits.1));
    }
}

/// The answer to `request`; `Err` only for the memory errors, which `handle` answers on a fresh
/// heap. `/healthz` is the relay's own: 200 when the configuration reads, 503 with the
/// configuration's error when it does not, so that a rollout's health check catches a broken
/// deploy before users do.
fn serve(request: &IncomingRequest, limits: &mut (u64, u64)) -> Result<Reply, RelayError> {
    let target = request.path_with_query();
    let method = request.method();
    let is_health = target.get(..8) == Some(b"/healthz") && matches!(target.get(8), None | Some(b'?'));
    let mut config = super::settings::load();
    if is_health && matches!(method, "GET" | "HEAD") {
        return Ok(match config {
            Ok(_) => Reply::json(200, br#"{"status":"ok"}"#.to_vec()),
            Err(error) => {
                log(&error);
                Reply::json(503, error.to_json())
            }
        });
    }
    let config = match &mut config {
        Ok(config) => config,
        Err(error) => return Ok(Reply::error(error, Headers::new())),
    };
    *limits = (config.job.timeout_ms, config.job.deadline_ms);
    // wasi:http hands header names over in lower case.
    let incoming = Request { method, target, headers: request.headers().take_entries() };
    let mut reply = match relay(request, &incoming, config) {
        Ok(reply) => reply,
        Err((error @ (RelayError::BodyOverMemory | RelayError::AnswerOverMemory), _)) => return Err(error),
        Err((error, headers)) => {
            let mut reply = Reply::error(&error, headers);
            if error == RelayError::MethodNotAllowed {
                reply.headers.push(("allow", config.allow_header()));
            }
            reply
        }
    };
    if method == "HEAD" {
        reply.body = None;
    }
    if let Some(cors) = config.cors_headers(incoming.header("origin"), &reply.headers) {
        reply.headers.extend(cors);
    }
    Ok(reply)
}

/// Relays `incoming` as `config` plans it; an error carries the headers the client gets with it
/// (an upstream's `retry-after`, the relayed ones).
fn relay(
    request: &IncomingRequest,
    incoming: &Request<Header<'static>>,
    config: &mut Config,
) -> Result<Reply, (RelayError, Headers<'static>)> {
    let bare = |error| (error, Headers::new());
    let send_body = match config.plan(incoming).map_err(bare)? {
        Plan::Preflight(headers) => return Ok(Reply { status: 204, headers, body: None }),
        Plan::Relay { body } => body,
    };
    let mut body = if send_body { read_body(request, config).map_err(bare)? } else { Vec::new() };
    if !config.legs.is_empty() {
        return fan_out(config, &body).map_err(bare);
    }
    if let Some(shaped) = config.upstream_body(config.request_shape.as_ref(), &config.job.method, &body).map_err(bare)? {
        body = shaped;
    }
    // The fields and the shape leave the job for the exchange, which may change its URL and
    // method (redirects).
    let fields = core::mem::take(&mut config.job.fields);
    let shape = config.job.shape.take();
    let limit = config.job.max_response_bytes;
    let paths = shape.as_ref().map_or_else(|| paths_of(&fields), |plan| plan.paths());
    // Borrowed field by field: the exchange takes the job mutably.
    let variables = variables(&config.query_json, &config.params_json);
    let mut reader = match &shape {
        Some(plan) => Reader::Shape(Shaper::new(plan, &paths, &variables, limit, Some(super::runtime::SCRATCH))),
        None => Reader::Fields(Projection::new(&paths, limit)),
    };
    let rules = Rules { copy_headers: &config.response_headers, error_bodies: config.upstream_error_bodies };
    let answered = exchange(&mut config.job, &mut reader, &body, &rules).map_err(bare)?;
    let body = match answered.body {
        Ok(Shaped::Read) => match reader.finish() {
            // A shape yields one value (the configuration made sure of it).
            Ok(values) if shape.is_some() => values.into_iter().flatten().next(),
            Ok(values) => Some(write_answer(&fields, &values).map_err(bare)?),
            Err(error) => return Err((error, answered.headers)),
        },
        Ok(Shaped::Empty) => None,
        Ok(Shaped::Raw(raw)) => {
            // The upstream's own error body, with the status its error would have had.
            let status = RelayError::UpstreamStatus { status: answered.status }.status();
            return Ok(Reply { status, headers: answered.headers, body: Some(raw) });
        }
        Err(error) => return Err((error, answered.headers)),
    };
    Ok(Reply { status: answered.status, headers: answered.headers, body })
}

/// Fetches every upstream of `RELAY_UPSTREAMS` at once and answers with the shape; the
/// `x-relay-failed` header lists those that failed under `RELAY_PARTIAL=null`.
fn fan_out(config: &Config, body: &[u8]) -> Result<Reply, RelayError> {
    let mut bodies = Vec::new();
    for leg in &config.legs {
        let shape = leg.request_shape.as_ref().or(config.request_shape.as_ref());
        bodies.push(config.upstream_body(shape, &leg.job.method, body)?.unwrap_or_else(|| Vec::from(body)));
    }
    let legs: Vec<(&str, &Job, &[u8])> =
        config.legs.iter().zip(&bodies).map(|(leg, body)| (leg.name.as_str(), &leg.job, body.as_slice())).collect();
    // With several upstreams the configuration holds a shape.
    let plan = config.job.shape.as_ref().ok_or_else(|| RelayError::config("RELAY_SHAPE", NO_SHAPE))?;
    let mut deadline = Deadline::new(config.job.timeout_ms, config.job.deadline_ms);
    let (outputs, failed) = merge(&legs, &mut deadline, config.partial_null, plan, &config.variables())?;
    let mut headers = Headers::new();
    if !failed.is_empty() {
        headers.push(("x-relay-failed", failed.leak().as_bytes()));
    }
    Ok(Reply { status: 200, headers, body: outputs.into_iter().next() })
}

fn read_body(request: &IncomingRequest, config: &Config) -> Result<Vec<u8>, RelayError> {
    let mut collector = BodyCollector::new(config.max_request_bytes);
    let body = request.consume().map_err(|()| broken_request())?;
    let stream = body.stream().map_err(|()| broken_request())?;
    let mut deadline = Deadline::new(config.job.timeout_ms, config.job.deadline_ms);
    drain(body, stream, &mut deadline, &mut collector, &|failure| match failure {
        StreamFailure::TimedOut { whole } => RelayError::RequestTimeout { timeout_ms: config.job.limit_ms(whole) },
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
fn respond(response_out: ResponseOutparam, reply: Reply, mut deadline: Deadline) {
    let mut length = String::new();
    // Pushed in a plain loop: a `map`/`collect` of the same cost 115 bytes more.
    let mut headers = Vec::new();
    for (name, value) in &reply.headers {
        headers.push(Header::new(name, value));
    }
    if let Some(body) = &reply.body {
        push_u64(&mut length, body.len() as u64);
        headers.push(Header::new("content-type", b"application/json"));
        headers.push(Header::new("content-length", length.as_bytes()));
    }
    let Ok(headers) = Fields::from_list(&headers) else { return };
    let Ok(response) = OutgoingResponse::new(headers, reply.status) else { return };
    let Ok(outgoing) = response.body() else { return };
    response_out.set(response);
    let written = match outgoing.write() {
        Ok(stream) => write_all(stream, reply.body.as_deref().unwrap_or(&[]), &mut deadline, None).is_ok(),
        Err(()) => false,
    };
    if written {
        let _ = outgoing.finish();
    } else {
        outgoing.abandon();
    }
}

impl<'h> Entry<'h> for Header<'h> {
    fn name(&self) -> &'h str {
        Header::name(self)
    }

    fn value(&self) -> &'h [u8] {
        Header::value(self)
    }
}

/// One line on stderr for a failure that is the operator's to fix (never a header or a body).
fn log(error: &RelayError) {
    let _ = write_all(abi::stderr(), &error.log_line(true), &mut Deadline::new(DEFAULT_TIMEOUT_MS, DEFAULT_TIMEOUT_MS), None);
}

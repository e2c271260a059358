//! Several upstreams at once (`RELAY_UPSTREAMS`): every request goes out before any answer is
//! awaited, then one `poll` waits on all of them (each answer's head, then each body's stream),
//! and each body is read into its own reader as it arrives, interleaved, under one deadline.
//! Each follows its redirects as the single upstream does: on its origin, at most three.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::abi::{Header, IncomingBody, IncomingResponse, InputStream, Pollable, StreamError};
use super::outbound::{is_encoded, map_stream_error, start, timed_out, Pending};
use super::streams::{Deadline, StreamFailure};
use crate::config::{Job, Upstream};
use crate::error::RelayError;
use crate::gateway::{disposition, redirect, Disposition};
use crate::path::Path;
use crate::relay::Sink;
use crate::shape::{Plan, Shaper, Variables};

/// A redirect to follow: its target, and the method it changes to (`gateway::redirect`).
type Redirect = (Upstream, Option<&'static str>);

/// Where one upstream's exchange stands. Each state owns its handles; a finished one has handed
/// them back (children before parents).
enum Leg {
    Waiting(Pending),
    Reading {
        ready: Pollable,
        stream: InputStream,
        body: IncomingBody,
        response: IncomingResponse,
    },
    /// Read to its end (`true`: a 204, no document), or failed.
    Done(Result<bool, RelayError>),
}

impl Leg {
    fn pollable(&self) -> Option<&Pollable> {
        match self {
            Leg::Waiting(pending) => Some(&pending.ready),
            Leg::Reading { ready, .. } => Some(ready),
            Leg::Done(_) => None,
        }
    }

    /// A failed leg's error, taken out of it when `fatal` says it fails the request.
    fn take_failure(&mut self, fatal: impl Fn(&RelayError) -> bool) -> Option<RelayError> {
        match self {
            Leg::Done(Err(error)) if fatal(error) => core::mem::replace(self, Leg::Done(Ok(false))).into_outcome().err(),
            _ => None,
        }
    }

    /// What became of a leg that has ended (every leg has, once `merge`'s loop is done).
    fn into_outcome(self) -> Result<bool, RelayError> {
        match self {
            Leg::Done(outcome) => outcome,
            _ => Err(RelayError::UpstreamUnreachable { detail: "cancelled: another upstream failed" }),
        }
    }

    /// Ends the leg with `outcome`, its handles handed back (a leg that has ended keeps its own).
    fn finish(&mut self, outcome: Result<bool, RelayError>) {
        if matches!(self, Leg::Done(_)) {
            return;
        }
        match core::mem::replace(self, Leg::Done(outcome)) {
            Leg::Waiting(pending) => pending.release(),
            Leg::Reading { ready, stream, body, response } => {
                ready.release();
                stream.release();
                body.release();
                response.release();
            }
            Leg::Done(_) => {}
        }
    }

    /// Takes what is there without waiting: the answer's head, or the body's next chunk; a
    /// redirect to follow (its target and status) when the head is one, after `hops` of them.
    fn advance(&mut self, job: &Job, hops: usize, reader: &mut dyn Sink, deadline: &mut Deadline) -> Option<Redirect> {
        let outcome = match self {
            Leg::Waiting(pending) => match pending.get(job) {
                None => return None,
                Some(Err(error)) => Err(error),
                Some(Ok(response)) => return self.answered(response, job, hops, deadline),
            },
            Leg::Reading { stream, .. } => match reader.room().map(|room| (room, super::runtime::fits(room))) {
                Ok((room, true)) => match stream.read(room) {
                    Ok(chunk) if chunk.is_empty() => return None,
                    Ok(chunk) => {
                        deadline.progress();
                        let pushed = reader.push(&chunk);
                        super::runtime::release(chunk);
                        match pushed {
                            Ok(()) => return None,
                            Err(error) => Err(error),
                        }
                    }
                    Err(StreamError::Closed) => Ok(false),
                    Err(error) => Err(map_stream_error(error, job)),
                },
                Ok((_, false)) => Err(RelayError::AnswerOverMemory),
                Err(error) => Err(error),
            },
            Leg::Done(_) => return None,
        };
        self.finish(outcome);
        None
    }

    /// The answer's head came: a 2xx's body is read next; a redirect on the upstream's origin
    /// is handed back to follow; anything else ends the leg.
    fn answered(&mut self, response: IncomingResponse, job: &Job, hops: usize, deadline: &mut Deadline) -> Option<Redirect> {
        // The request's future and pollable are done with: handed back (the response is no
        // child of theirs).
        if let Leg::Waiting(pending) = core::mem::replace(self, Leg::Done(Ok(false))) {
            pending.release();
        }
        deadline.progress();
        let status = response.status();
        let entries = response.headers().take_entries();
        let found = |name: &str| entries.iter().find(|entry| entry.name() == name).map(Header::value);
        let encoded = is_encoded(found("content-encoding"));
        let disposition = disposition(status);
        if disposition == Disposition::Redirect {
            if let Some(followed) = redirect(job, status, found("location"), hops) {
                response.release();
                return Some(followed);
            }
        }
        let outcome = match disposition {
            Disposition::Shape if encoded => Err(RelayError::UpstreamEncoded),
            Disposition::Shape => {
                let opened = response.consume().and_then(|body| match body.stream() {
                    Ok(stream) => Ok((body, stream)),
                    Err(()) => {
                        body.release();
                        Err(())
                    }
                });
                match opened {
                    Ok((body, stream)) => {
                        let ready = stream.subscribe();
                        *self = Leg::Reading { ready, stream, body, response };
                        return None;
                    }
                    Err(()) => Err(RelayError::UpstreamUnreachable { detail: "the host broke the wasi:http contract" }),
                }
            }
            Disposition::Empty if status == 204 => Ok(true),
            _ => Err(RelayError::UpstreamStatus { status }),
        };
        response.release();
        *self = Leg::Done(outcome);
        None
    }
}

/// Fetches every leg (its name, its job, its body) at once and runs `plan` with each document as
/// its `$name` (`.` is `null`), after the relay's own `variables`: the shape's outputs, and the
/// names of the legs that failed when `partial_null` made their documents `null`
/// (comma-separated). Without it, the first failure is the error, naming its leg, and the other
/// legs are cancelled, their handles handed back. Every request goes out before any answer is
/// awaited; then each leg's head or next chunk is taken as it comes, interleaved.
pub fn merge(
    legs: &[(&str, &Job, &[u8])],
    deadline: &mut Deadline,
    partial_null: bool,
    plan: &Plan,
    variables: &Variables,
) -> Result<(Vec<Vec<u8>>, String), RelayError> {
    // Each leg's document read through the plan of what the program reads of its `$name`, its
    // iterations streamed.
    let plans = Plan::for_variables(plan.program(), legs.iter().map(|(name, _, _)| *name));
    let leg_paths: Vec<Vec<&Path>> = plans.iter().map(Plan::paths).collect();
    let mut shapers: Vec<Shaper> = plans
        .iter()
        .zip(&leg_paths)
        .zip(legs)
        .map(|((leg_plan, paths), (_, job, _))| Shaper::new(leg_plan, paths, &[], job.max_response_bytes, Some(super::runtime::SCRATCH)))
        .collect();
    let mut states: Vec<Leg> = legs
        .iter()
        .map(|(_, job, body)| match start(job, body, deadline) {
            Ok(pending) => Leg::Waiting(pending),
            Err(error) => Leg::Done(Err(error)),
        })
        .collect();
    // `get`, not an index: a bounds check links a panic's message and location.
    let name = |i: usize| legs.get(i).map_or("", |leg| leg.0);
    let named = |i: usize, error| RelayError::InUpstream { name: String::from(name(i)), error: Box::new(error) };
    // Under `RELAY_PARTIAL=null` an upstream's own failure makes its document `null`; the
    // program's (a stream's error, the memory) fails the request whatever the policy.
    let fatal = |error: &RelayError| !partial_null || is_the_programs(error);
    // What redirects change: a leg's job (its URL and method), body and hops so far.
    let mut redirected: Vec<(Option<Job>, &[u8], usize)> = legs.iter().map(|(_, _, body)| (None, *body, 0)).collect();
    loop {
        for (((state, (_, job, _)), shaper), (moved, body, hops)) in
            states.iter_mut().zip(legs).zip(shapers.iter_mut()).zip(&mut redirected)
        {
            let job = moved.as_ref().unwrap_or(job);
            if let Some((target, method)) = state.advance(job, *hops, shaper, deadline) {
                let mut next = job.exchange_with(&target);
                if let Some(method) = method {
                    next.method = String::from(method);
                    *body = &[];
                }
                *state = match start(&next, body, deadline) {
                    Ok(pending) => Leg::Waiting(pending),
                    Err(error) => Leg::Done(Err(error)),
                };
                (*moved, *hops) = (Some(next), *hops + 1);
            }
        }
        if let Some((i, error)) = states.iter_mut().enumerate().find_map(|(i, state)| Some((i, state.take_failure(fatal)?))) {
            for state in &mut states {
                state.finish(Err(RelayError::UpstreamUnreachable { detail: "cancelled: another upstream failed" }));
            }
            return Err(named(i, error));
        }
        let pollables: Vec<&Pollable> = states.iter().filter_map(Leg::pollable).collect();
        if pollables.is_empty() {
            break;
        }
        if let Err(StreamFailure::TimedOut { whole }) = deadline.wait(&pollables) {
            // Every leg still open ran out of time.
            for (state, (_, job, _)) in states.iter_mut().zip(legs) {
                if state.pollable().is_some() {
                    state.finish(Err(timed_out(whole, job)));
                }
            }
        }
    }
    // Without a document (a 204, or failed under `RELAY_PARTIAL=null`) a leg's is `null`, read
    // through its plan all the same: its streams meet `null` as the whole program would.
    let null = |leg_plan: &Plan| {
        let paths = leg_plan.paths();
        let mut shaper = Shaper::new(leg_plan, &paths, &[], 4, None);
        shaper.push(b"null")?;
        shaper.finish()
    };
    let mut documents = Vec::new();
    let mut failed = String::new();
    for (i, ((state, shaper), leg_plan)) in states.into_iter().zip(shapers).zip(&plans).enumerate() {
        // The sparse copy of what the program reads, then each stream's outputs.
        let document = state.into_outcome().and_then(|empty| if empty { null(leg_plan) } else { shaper.finish() });
        match document {
            Ok(parts) => documents.push(parts),
            Err(error) if fatal(&error) => return Err(named(i, error)),
            Err(_) => {
                if !failed.is_empty() {
                    failed.push_str(",");
                }
                failed.push_str(name(i));
                documents.push(null(leg_plan).map_err(|error| named(i, error))?);
            }
        }
    }
    let mut all: Vec<(&str, &[u8])> = variables.to_vec();
    for (((name, _, _), leg_plan), parts) in legs.iter().zip(&plans).zip(&documents) {
        leg_plan.bind(name, parts, &mut all);
    }
    let paths = plan.paths();
    let program = plans.last().map_or(plan.program(), Plan::program);
    let mut shaper = Shaper::new(plan, &paths, &all, 4, Some(super::runtime::SCRATCH)).running(program);
    shaper.push(b"null")?;
    Ok((shaper.finish()?, failed))
}

/// Whether an upstream's error is the program's, not the upstream's: a stream's evaluation
/// failed, or the relay's memory.
fn is_the_programs(error: &RelayError) -> bool {
    matches!(error, RelayError::UpstreamShape { .. } | RelayError::AnswerOverMemory)
}

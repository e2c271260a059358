//! Reading and writing `wasi:io` streams the way the host wants it: writes sized by
//! `check-write` (a host may buffer only one chunk), every wait bounded by a [`Deadline`].

use super::abi::{self, IncomingBody, InputStream, OutputStream, Pollable, StreamError};
use crate::error::RelayError;
use crate::relay::{Sink, CHUNK};

/// How a stream operation ended short.
pub enum StreamFailure {
    /// The peer closed the stream, or the host reported an error.
    Broken(StreamError),
    /// A limit passed: the whole deadline (`whole`), or the longest pause without progress.
    TimedOut { whole: bool },
    /// The pollable a write was watching became ready first (the upstream answered mid-upload).
    Interrupted,
    /// The next chunk would not fit in the memory left.
    OutOfMemory,
}

/// The limits on a stream's waits: how long it may go without progress, and the instant by which
/// all of it must be done. A pollable can be ready without the stream having anything for us, so
/// the pause limit runs from the last progress, not from each wait.
pub struct Deadline {
    pause_ns: u64,
    pause_ends: u64,
    end: u64,
}

impl Deadline {
    /// At most `pause_ms` without progress, `whole_ms` in all, from now.
    pub fn new(pause_ms: u64, whole_ms: u64) -> Deadline {
        let now = abi::now();
        let pause_ns = nanoseconds(pause_ms);
        Deadline { pause_ns, pause_ends: now.saturating_add(pause_ns), end: now.saturating_add(nanoseconds(whole_ms)) }
    }

    /// No limit: for the command's own stdout and stderr, which the user's shell holds.
    #[cfg(feature = "cli")]
    pub fn none() -> Deadline {
        Deadline { pause_ns: u64::MAX, pause_ends: u64::MAX, end: u64::MAX }
    }

    pub fn progress(&mut self) {
        self.pause_ends = abi::now().saturating_add(self.pause_ns);
    }

    /// Waits until one of `pollables` (at most 8) is ready, and says which (bit `i` for
    /// `pollables[i]`); fails once a limit has passed.
    pub fn wait(&self, pollables: &[&Pollable]) -> Result<u32, StreamFailure> {
        let until = self.pause_ends.min(self.end);
        if until == u64::MAX {
            return Ok(abi::poll(pollables));
        }
        if abi::now() >= until {
            return Err(StreamFailure::TimedOut { whole: until == self.end });
        }
        let timer = abi::subscribe_instant(until);
        let mut all = [&timer; abi::MAX_POLLED];
        let count = pollables.len().min(abi::MAX_POLLED - 1);
        if let (Some(head), Some(given)) = (all.get_mut(..count), pollables.get(..count)) {
            head.copy_from_slice(given);
        }
        let ready = abi::poll(all.get(..count + 1).unwrap_or(&all));
        timer.release();
        Ok(ready)
    }
}

/// Milliseconds as nanoseconds (not `saturating_mul`, which costs a 128-bit multiplication
/// routine on wasm32), at most 10^12 ms (31 years): a limit added to the monotonic clock then never
/// saturates to the `u64::MAX` that means no limit, so every configured wait has its timer.
pub fn nanoseconds(ms: u64) -> u64 {
    ms.min(1_000_000_000_000) * 1_000_000
}

/// Writes all of `bytes`, flushes them and releases the stream (which must go before the body it
/// belongs to is finished), within `deadline`. With a `watch`ed pollable, the write stops as soon
/// as that is ready while the stream has no room ([`StreamFailure::Interrupted`]).
pub fn write_all(stream: OutputStream, bytes: &[u8], deadline: &mut Deadline, watch: Option<&Pollable>) -> Result<(), StreamFailure> {
    let ready = stream.subscribe();
    let outcome = write_and_flush(&stream, &ready, bytes, deadline, watch);
    ready.release();
    stream.release();
    outcome
}

fn write_and_flush(
    stream: &OutputStream,
    ready: &Pollable,
    mut bytes: &[u8],
    deadline: &mut Deadline,
    watch: Option<&Pollable>,
) -> Result<(), StreamFailure> {
    let mut flushed = false;
    let both = [ready, watch.unwrap_or(ready)];
    loop {
        let room = stream.check_write().map_err(StreamFailure::Broken)?;
        if room == 0 {
            if deadline.wait(both.get(..1 + usize::from(watch.is_some())).unwrap_or(&both))? & 2 != 0 {
                return Err(StreamFailure::Interrupted);
            }
            continue;
        }
        if bytes.is_empty() {
            if flushed {
                // check-write reports room again once the flush has gone through.
                return Ok(());
            }
            stream.flush().map_err(StreamFailure::Broken)?;
            flushed = true;
            continue;
        }
        // At most a chunk a write, whatever room the host offers: a host that takes megabytes at
        // once would otherwise show no progress while a slow peer reads them.
        let (now, later) = bytes.split_at_checked(bytes.len().min(room.min(CHUNK) as usize)).unwrap_or((bytes, &[]));
        stream.write(now).map_err(StreamFailure::Broken)?;
        bytes = later;
        deadline.progress();
    }
}

/// Reads `stream`, the stream of `body`, to its end within `deadline`, handing each chunk to
/// `sink` (each read asks for at most the room the sink has ready); a failure of the stream
/// becomes the caller's error through `failed`. Then, whatever the outcome, the stream's
/// pollable, the stream and the body go back to the host, children first (the host traps
/// otherwise), so that an instance serving many requests holds none of them. wasmtime does not
/// apply a request's between-bytes timeout to the body stream, so the deadline is the relay's.
/// The sink and `failed` are `dyn`, not generic: one copy of the loop serves its three callers
/// (706 bytes fewer than a copy for each).
pub fn drain(
    body: IncomingBody,
    stream: InputStream,
    deadline: &mut Deadline,
    sink: &mut dyn Sink,
    failed: &dyn Fn(StreamFailure) -> RelayError,
) -> Result<(), RelayError> {
    let ready = stream.subscribe();
    let read = read_into(&stream, &ready, deadline, sink, failed);
    ready.release();
    stream.release();
    body.release();
    read
}

fn read_into(
    stream: &InputStream,
    ready: &Pollable,
    deadline: &mut Deadline,
    sink: &mut dyn Sink,
    failed: &dyn Fn(StreamFailure) -> RelayError,
) -> Result<(), RelayError> {
    loop {
        let room = sink.room()?;
        if !super::runtime::fits(room) {
            return Err(failed(StreamFailure::OutOfMemory));
        }
        match stream.read(room) {
            Ok(chunk) if chunk.is_empty() => {
                deadline.wait(&[ready]).map_err(failed)?;
            }
            Ok(chunk) => {
                deadline.progress();
                let pushed = sink.push(&chunk);
                // Handed back at once: the chunk is the heap's topmost block, so the sink's
                // memory stays below the next one, and reading a long stream takes one chunk.
                super::runtime::release(chunk);
                pushed?;
            }
            Err(StreamError::Closed) => return Ok(()),
            Err(error) => return Err(failed(StreamFailure::Broken(error))),
        }
    }
}

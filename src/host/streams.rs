//! Reading and writing `wasi:io` streams the way the host wants it: writes sized by
//! `check-write` (a host may buffer only one chunk), waits bounded by a deadline.

use wasi::clocks::monotonic_clock;
use wasi::io::poll;
use wasi::io::streams::{InputStream, OutputStream, StreamError};

/// How a stream operation ended short.
pub enum StreamFailure {
    /// The peer closed the stream, or the host reported an error.
    Broken(StreamError),
    /// Nothing could be written within the deadline.
    TimedOut,
}

/// Writes all of `bytes` and flushes them. With a `timeout_ns`, each wait for the stream to
/// accept more is bounded by it.
pub fn write_all(stream: &OutputStream, mut bytes: &[u8], timeout_ns: Option<u64>) -> Result<(), StreamFailure> {
    let ready = stream.subscribe();
    while !bytes.is_empty() {
        let room = stream.check_write().map_err(StreamFailure::Broken)?;
        if room == 0 {
            Deadline::new(timeout_ns).wait(&ready)?;
            continue;
        }
        let (now, later) = bytes.split_at(bytes.len().min(room as usize));
        stream.write(now).map_err(StreamFailure::Broken)?;
        bytes = later;
    }
    stream.flush().map_err(StreamFailure::Broken)?;
    // check-write reports an error, or room again, once the flush has gone through.
    while stream.check_write().map_err(StreamFailure::Broken)? == 0 {
        Deadline::new(timeout_ns).wait(&ready)?;
    }
    Ok(())
}

/// How long a stream may go without progress. A pollable can be ready without the stream
/// having anything for us, so the limit runs from the last progress, not from each wait.
struct Deadline {
    timeout_ns: Option<u64>,
    at: u64,
}

impl Deadline {
    fn new(timeout_ns: Option<u64>) -> Deadline {
        let mut deadline = Deadline { timeout_ns, at: 0 };
        deadline.progress();
        deadline
    }

    fn progress(&mut self) {
        if let Some(ns) = self.timeout_ns {
            self.at = monotonic_clock::now().saturating_add(ns);
        }
    }

    fn wait(&self, ready: &poll::Pollable) -> Result<(), StreamFailure> {
        if self.timeout_ns.is_none() {
            ready.block();
            return Ok(());
        }
        if monotonic_clock::now() >= self.at {
            return Err(StreamFailure::TimedOut);
        }
        let timer = monotonic_clock::subscribe_instant(self.at);
        poll::poll(&[ready, &timer]);
        Ok(())
    }
}

/// Reads `stream` to its end, handing each chunk to `sink`; the sink's error stops the read.
/// With a `timeout_ns`, bytes must keep coming within that long of each other: wasmtime does not
/// apply a request's between-bytes timeout to the body stream, so the relay applies it here.
pub fn read_each<E>(
    stream: &InputStream,
    timeout_ns: Option<u64>,
    mut sink: impl FnMut(&[u8]) -> Result<(), E>,
    on_failure: impl Fn(StreamFailure) -> E,
) -> Result<(), E> {
    const CHUNK: u64 = 64 * 1024;
    let ready = stream.subscribe();
    let mut deadline = Deadline::new(timeout_ns);
    loop {
        match stream.read(CHUNK) {
            Ok(chunk) if chunk.is_empty() => deadline.wait(&ready).map_err(&on_failure)?,
            Ok(chunk) => {
                sink(&chunk)?;
                deadline.progress();
            }
            Err(StreamError::Closed) => return Ok(()),
            Err(error) => return Err(on_failure(StreamFailure::Broken(error))),
        }
    }
}
/// Reads `stream` to its end.
#[cfg(feature = "cli")]
pub fn read_to_end(stream: &InputStream) -> Result<alloc::vec::Vec<u8>, StreamError> {
    let mut all = alloc::vec::Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => all.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(all),
            Err(error) => return Err(error),
        }
    }
}

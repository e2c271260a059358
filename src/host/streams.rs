//! Reading and writing `wasi:io` streams the way the host wants it: writes sized by
//! `check-write` (a host may buffer only one chunk), waits bounded by a deadline.

use alloc::vec::Vec;

use super::abi::{self, IncomingBody, InputStream, OutputStream, Pollable, StreamError};

/// How a stream operation ended short.
pub enum StreamFailure {
    /// The peer closed the stream, or the host reported an error.
    Broken(StreamError),
    /// Nothing could be written within the deadline.
    TimedOut,
}

/// Writes all of `bytes`, flushes them and releases the stream (which must go before the body it
/// belongs to is finished). With a `timeout_ns`, the stream may take no longer than that to make
/// room for the next bytes.
pub fn write_all(stream: OutputStream, bytes: &[u8], timeout_ns: Option<u64>) -> Result<(), StreamFailure> {
    let ready = stream.subscribe();
    let outcome = write_and_flush(stream, ready, bytes, timeout_ns);
    ready.release();
    stream.release();
    outcome
}

fn write_and_flush(stream: OutputStream, ready: Pollable, mut bytes: &[u8], timeout_ns: Option<u64>) -> Result<(), StreamFailure> {
    let mut flushed = false;
    let mut deadline = Deadline::new(timeout_ns);
    loop {
        let room = stream.check_write().map_err(StreamFailure::Broken)?;
        if room == 0 {
            deadline.wait(ready)?;
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
        let (now, later) = bytes.split_at(bytes.len().min(usize::try_from(room).unwrap_or(usize::MAX)));
        stream.write(now).map_err(StreamFailure::Broken)?;
        bytes = later;
        deadline.progress();
    }
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
            self.at = abi::now().saturating_add(ns);
        }
    }

    fn wait(&self, ready: Pollable) -> Result<(), StreamFailure> {
        if self.timeout_ns.is_none() {
            abi::poll(&[ready]);
            return Ok(());
        }
        if abi::now() >= self.at {
            return Err(StreamFailure::TimedOut);
        }
        let timer = abi::subscribe_instant(self.at);
        abi::poll(&[ready, timer]);
        timer.release();
        Ok(())
    }
}

/// Reads a stream chunk by chunk. With a `timeout_ns`, bytes must keep coming within that long of
/// each other: wasmtime does not apply a request's between-bytes timeout to the body stream, so
/// the relay applies it here. [`ChunkReader::drain`] is the one way in: it feeds a consumer and
/// hands every resource back, so callers hold neither a loop nor a release of their own.
pub struct ChunkReader {
    stream: InputStream,
    ready: Pollable,
    deadline: Deadline,
    chunk: Vec<u8>,
}

impl ChunkReader {
    fn new(stream: InputStream, timeout_ns: Option<u64>) -> ChunkReader {
        ChunkReader { stream, ready: stream.subscribe(), deadline: Deadline::new(timeout_ns), chunk: Vec::new() }
    }

    /// Reads `stream`, the stream of `body`, to its end, handing each chunk to `sink`; a failure
    /// of the stream becomes the caller's error through `failed`. Then, whatever the outcome, the
    /// stream's pollable, the stream and the body go back to the host, children first (the host
    /// traps otherwise), so that an instance serving many requests holds none of them.
    pub fn drain<E>(
        body: IncomingBody,
        stream: InputStream,
        timeout_ns: Option<u64>,
        mut sink: impl FnMut(&[u8]) -> Result<(), E>,
        failed: impl Fn(StreamFailure) -> E,
    ) -> Result<(), E> {
        let mut reader = ChunkReader::new(stream, timeout_ns);
        let read = loop {
            match reader.next() {
                Ok(Some(chunk)) => {
                    if let Err(error) = sink(chunk) {
                        break Err(error);
                    }
                }
                Ok(None) => break Ok(()),
                Err(failure) => break Err(failed(failure)),
            }
        };
        reader.ready.release();
        reader.stream.release();
        body.release();
        read
    }

    /// The next chunk, `None` at the end of the stream. The chunk before it is handed back to the
    /// allocator first, so that reading a long stream takes the memory of one chunk.
    fn next(&mut self) -> Result<Option<&[u8]>, StreamFailure> {
        const CHUNK: u64 = 64 * 1024;
        super::runtime::release(core::mem::take(&mut self.chunk));
        loop {
            match self.stream.read(CHUNK) {
                Ok(chunk) if chunk.is_empty() => self.deadline.wait(self.ready)?,
                Ok(chunk) => {
                    self.deadline.progress();
                    self.chunk = chunk;
                    return Ok(Some(&self.chunk));
                }
                Err(StreamError::Closed) => return Ok(None),
                Err(error) => return Err(StreamFailure::Broken(error)),
            }
        }
    }
}

//! Reading and writing `wasi:io` streams the way the host wants it: writes sized by
//! `check-write` (a host may buffer only one chunk), waits bounded by a deadline.

use wasi::clocks::monotonic_clock;
use wasi::io::poll;
use wasi::io::streams::{InputStream, OutputStream, StreamError};

/// How a stream operation ended short.
pub enum StreamFailure {
    /// The peer closed the stream, or the host reported an error.
    Broken,
    /// Nothing could be written within the deadline.
    TimedOut,
}

/// Writes all of `bytes` and flushes them. With a `timeout_ns`, each wait for the stream to
/// accept more is bounded by it.
pub fn write_all(stream: &OutputStream, mut bytes: &[u8], timeout_ns: Option<u64>) -> Result<(), StreamFailure> {
    let ready = stream.subscribe();
    while !bytes.is_empty() {
        let room = stream.check_write().map_err(|_| StreamFailure::Broken)?;
        if room == 0 {
            wait(&ready, timeout_ns)?;
            continue;
        }
        let (now, later) = bytes.split_at(bytes.len().min(room as usize));
        stream.write(now).map_err(|_| StreamFailure::Broken)?;
        bytes = later;
    }
    stream.flush().map_err(|_| StreamFailure::Broken)?;
    // check-write reports an error, or room again, once the flush has gone through.
    while stream.check_write().map_err(|_| StreamFailure::Broken)? == 0 {
        wait(&ready, timeout_ns)?;
    }
    Ok(())
}

fn wait(ready: &poll::Pollable, timeout_ns: Option<u64>) -> Result<(), StreamFailure> {
    match timeout_ns {
        None => ready.block(),
        Some(ns) => {
            let timer = monotonic_clock::subscribe_duration(ns);
            if poll::poll(&[ready, &timer]) == [1] {
                return Err(StreamFailure::TimedOut);
            }
        }
    }
    Ok(())
}

/// Reads `stream` to its end, handing each chunk to `sink`; the sink's error stops the read.
pub fn read_each<E>(
    stream: &InputStream,
    mut sink: impl FnMut(&[u8]) -> Result<(), E>,
    on_failure: impl Fn(StreamError) -> E,
) -> Result<(), E> {
    const CHUNK: u64 = 64 * 1024;
    loop {
        match stream.blocking_read(CHUNK) {
            Ok(chunk) => sink(&chunk)?,
            Err(StreamError::Closed) => return Ok(()),
            Err(error) => return Err(on_failure(error)),
        }
    }
}

/// Reads `stream` to its end.
#[cfg(feature = "cli")]
pub fn read_to_end(stream: &InputStream) -> Result<alloc::vec::Vec<u8>, StreamError> {
    let mut all = alloc::vec::Vec::new();
    read_each(stream, |chunk| {
        all.extend_from_slice(chunk);
        Ok(())
    }, |error| error)?;
    Ok(all)
}

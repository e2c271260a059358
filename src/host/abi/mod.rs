//! The WASI 0.2.12 calls the relay makes, declared and lowered by hand through the canonical ABI.
//!
//! Generated bindings (the `wasi` crate) import a drop function for every resource type and lift
//! every result into owned Rust values: each `error-code` into a 39-case enum, each header list
//! into a `Vec<Vec<u8>>`, each method into a `String`. Every import costs a component bytes (its
//! name is written three times: core import, core instance, alias; about 50 bytes once
//! scripts/shorten_core_names.py has shortened two of them) and every lifting its code, so this
//! module imports only what the relay calls and reads only what it uses (docs/size.md has the
//! measurement). Handles are indexes without `Drop` (no destructor code), and not `Copy`: a call
//! that consumes a resource (`release`, `finish`, `send`, a constructor taking the headers) takes
//! it by value, so a use after it does not compile, while a call that borrows takes `&self`. The
//! glue hands each resource back with its `release` once done, children before parents as the host
//! requires, so that an instance a host reuses for many requests holds nothing of the earlier ones.
//!
//! Offsets follow the canonical ABI: a `result` or `option` keeps its discriminant at 0 and its
//! payload at the payload's alignment (4 for handles and lists, 8 for `u64` and `error-code`).
//! Lists the host returns are allocated through `cabi_realloc`; the ones the relay reads in a
//! loop (stream chunks, poll results) are handed back to the allocator, the rest live as long
//! as the instance.

#[cfg(feature = "http")]
mod cli;
#[cfg(feature = "http")]
mod incoming;
mod outgoing;

#[cfg(feature = "http")]
pub use cli::*;
#[cfg(feature = "http")]
pub use incoming::*;
pub use outgoing::*;

use alloc::vec::Vec;

#[repr(transparent)]
pub struct Pollable(i32);
#[repr(transparent)]
pub struct InputStream(i32);
#[repr(transparent)]
pub struct OutputStream(i32);
#[repr(transparent)]
pub struct IoError(i32);
#[repr(transparent)]
pub struct Fields(i32);
#[repr(transparent)]
pub struct IncomingBody(i32);
#[repr(transparent)]
pub struct OutgoingBody(i32);

/// `stream-error`: the stream failed (with an error that may carry an HTTP `error-code`) or closed.
pub enum StreamError {
    Failed(IoError),
    Closed,
}

#[link(wasm_import_module = "wasi:io/poll@0.2.12")]
unsafe extern "C" {
    #[link_name = "poll"]
    fn poll_import(pollables: *const i32, len: usize, ret: *mut u8);
    #[link_name = "[resource-drop]pollable"]
    fn pollable_drop(pollable: Pollable);
}

#[link(wasm_import_module = "wasi:io/streams@0.2.12")]
unsafe extern "C" {
    #[link_name = "[method]input-stream.read"]
    fn input_stream_read(stream: i32, len: u64, ret: *mut u8);
    #[link_name = "[method]input-stream.subscribe"]
    fn input_stream_subscribe(stream: i32) -> Pollable;
    #[link_name = "[resource-drop]input-stream"]
    fn input_stream_drop(stream: InputStream);
    #[link_name = "[method]output-stream.check-write"]
    fn output_stream_check_write(stream: i32, ret: *mut u8);
    #[link_name = "[method]output-stream.write"]
    fn output_stream_write(stream: i32, bytes: *const u8, len: usize, ret: *mut u8);
    #[link_name = "[method]output-stream.flush"]
    fn output_stream_flush(stream: i32, ret: *mut u8);
    #[link_name = "[method]output-stream.subscribe"]
    fn output_stream_subscribe(stream: i32) -> Pollable;
    #[link_name = "[resource-drop]output-stream"]
    fn output_stream_drop(stream: OutputStream);
}

#[link(wasm_import_module = "wasi:clocks/monotonic-clock@0.2.12")]
unsafe extern "C" {
    #[link_name = "now"]
    fn clock_now() -> u64;
    #[link_name = "subscribe-instant"]
    fn clock_subscribe_instant(when: u64) -> Pollable;
}

#[link(wasm_import_module = "wasi:http/types@0.2.12")]
unsafe extern "C" {
    #[link_name = "[static]fields.from-list"]
    fn fields_from_list(entries: *const Header, len: usize, ret: *mut u8);
    #[link_name = "[method]fields.entries"]
    fn fields_entries(fields: i32, ret: *mut u8);
    #[link_name = "[resource-drop]fields"]
    fn fields_drop(fields: Fields);
    #[link_name = "[method]incoming-body.stream"]
    fn incoming_body_stream(body: i32, ret: *mut u8);
    #[link_name = "[resource-drop]incoming-body"]
    fn incoming_body_drop(body: IncomingBody);
    #[link_name = "[method]outgoing-body.write"]
    fn outgoing_body_write(body: i32, ret: *mut u8);
    #[link_name = "[resource-drop]outgoing-body"]
    fn outgoing_body_drop(body: OutgoingBody);
    #[link_name = "[static]outgoing-body.finish"]
    fn outgoing_body_finish(body: OutgoingBody, has_trailers: i32, trailers: i32, ret: *mut u8);
}

/// Where the host writes a call's result, aligned for every result read here and as big as the
/// biggest: `error-code` is 32 bytes (alignment 8, its largest payload 24 bytes at 8), so a
/// `result<_, error-code>` takes 40 and `future-incoming-response.get`'s
/// `option<result<result<incoming-response, error-code>>>` 56. The host writes the whole case, so
/// an area sized for the fields the relay reads would let it write past the end.
///
/// It starts uninitialised, as wit-bindgen's do (zeroing it cost every call site a fill): each
/// reader below reads only what the canonical ABI has the host write for the case it read first.
#[repr(C, align(8))]
pub(super) struct ReturnArea(core::mem::MaybeUninit<[u8; 56]>);

impl ReturnArea {
    pub(super) fn new() -> ReturnArea {
        ReturnArea(core::mem::MaybeUninit::uninit())
    }

    pub(super) fn ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr().cast()
    }

    pub(super) fn byte(&self, offset: usize) -> u8 {
        debug_assert!(offset < 56);
        // SAFETY: in bounds, and written by the host (see above).
        unsafe { self.0.as_ptr().cast::<u8>().add(offset).read() }
    }

    pub(super) fn word(&self, offset: usize) -> i32 {
        debug_assert!(offset + 4 <= 56);
        // SAFETY: in bounds, and written by the host (see above).
        unsafe { self.0.as_ptr().cast::<u8>().add(offset).cast::<i32>().read_unaligned() }
    }

    pub(super) fn u64(&self, offset: usize) -> u64 {
        u64::from(self.word(offset) as u32) | u64::from(self.word(offset + 4) as u32) << 32
    }

    /// A `result<own<T>>` or `result<own<T>, E>` with E unread: the handle when it is `ok`.
    pub(super) fn handle(&self) -> Result<i32, ()> {
        if self.byte(0) == 0 {
            Ok(self.word(4))
        } else {
            Err(())
        }
    }

    /// A `result<_, stream-error>` whose error sits at `error_at`.
    pub(super) fn stream_result(&self, error_at: usize) -> Result<(), StreamError> {
        if self.byte(0) == 0 {
            return Ok(());
        }
        match self.byte(error_at) {
            0 => Err(StreamError::Failed(IoError(self.word(error_at + 4)))),
            _ => Err(StreamError::Closed),
        }
    }

    /// A `list<T>` at `offset` that the host allocated, as a slice that lives with the instance.
    pub(super) fn list<T>(&self, offset: usize) -> &'static [T] {
        let (ptr, len) = (self.word(offset) as usize as *const T, self.word(offset + 4) as usize);
        if len == 0 {
            return &[];
        }
        // SAFETY: the host wrote `len` elements of `T` there through `cabi_realloc`, and the
        // allocator never reuses that memory while the instance serves this request.
        unsafe { core::slice::from_raw_parts(ptr, len) }
    }

    /// A `list<T>` at `offset` that the host allocated, owned, so that a loop can hand it back
    /// with `runtime::release` once done with it.
    pub(super) fn take_list<T>(&self, offset: usize) -> Vec<T> {
        let (ptr, len) = (self.word(offset) as usize as *mut T, self.word(offset + 4) as usize);
        if len == 0 {
            return Vec::new();
        }
        // SAFETY: the host allocated exactly `len` elements of `T` through `cabi_realloc`, with
        // `T`'s alignment, and nothing else refers to them.
        unsafe { Vec::from_raw_parts(ptr, len, len) }
    }
}

/// Waits until at least one of `pollables` (at most [`MAX_POLLED`]) is ready; bit `i` of the
/// result says `pollables[i]` is.
pub fn poll(pollables: &[&Pollable]) -> u32 {
    let mut handles = [0; MAX_POLLED];
    for (handle, pollable) in handles.iter_mut().zip(pollables) {
        *handle = pollable.0;
    }
    let mut ret = ReturnArea::new();
    // SAFETY: `handles` holds `len` borrowed pollables the caller owns; `ret` is as large as
    // poll's `list<u32>` result.
    unsafe { poll_import(handles.as_ptr(), pollables.len().min(MAX_POLLED), ret.ptr()) };
    let ready = ret.take_list::<u32>(0);
    let mask = ready.iter().fold(0, |mask, &index| mask | 1u32.wrapping_shl(index));
    // The list of ready indexes goes back to the allocator, so that waiting does not pile up.
    super::runtime::release(ready);
    mask
}

/// The most pollables one `poll` takes: a timer and a pollable for each of 8 upstreams.
pub const MAX_POLLED: usize = 9;

impl Pollable {
    /// `[resource-drop]pollable`.
    pub fn release(self) {
        // SAFETY: the pollable is ours, and this consumes it.
        unsafe { pollable_drop(self) }
    }
}

pub fn now() -> u64 {
    // SAFETY: a call without arguments.
    unsafe { clock_now() }
}

pub fn subscribe_instant(when: u64) -> Pollable {
    // SAFETY: a call with a plain number; the host returns a pollable we own.
    unsafe { clock_subscribe_instant(when) }
}

impl InputStream {
    /// Up to `len` bytes; an empty chunk when none are ready yet.
    pub fn read(&self, len: u64) -> Result<Vec<u8>, StreamError> {
        let mut ret = ReturnArea::new();
        // SAFETY: the stream is borrowed for the call; `ret` fits `result<list<u8>, stream-error>`.
        unsafe { input_stream_read(self.0, len, ret.ptr()) };
        if ret.byte(0) != 0 {
            return Err(ret.stream_result(4).err().unwrap_or(StreamError::Closed));
        }
        // Owned, so that the reader can hand its memory back before the next read.
        Ok(ret.take_list(4))
    }

    pub fn subscribe(&self) -> Pollable {
        // SAFETY: the stream is borrowed for the call; the pollable is its child, released first.
        unsafe { input_stream_subscribe(self.0) }
    }

    pub fn release(self) {
        // SAFETY: the stream is ours, and this consumes it.
        unsafe { input_stream_drop(self) }
    }
}

impl OutputStream {
    /// Takes over a stream opened through the generated bindings (the command's stdout, stderr).
    #[cfg(feature = "cli")]
    pub fn from_handle(handle: u32) -> OutputStream {
        OutputStream(handle as i32)
    }

    pub fn check_write(&self) -> Result<u64, StreamError> {
        let mut ret = ReturnArea::new();
        // SAFETY: the stream is borrowed for the call; `ret` fits `result<u64, stream-error>`.
        unsafe { output_stream_check_write(self.0, ret.ptr()) };
        ret.stream_result(8).map(|()| ret.u64(8))
    }

    pub fn write(&self, bytes: &[u8]) -> Result<(), StreamError> {
        let mut ret = ReturnArea::new();
        // SAFETY: `bytes` is valid for the call, which copies it; `ret` fits the result.
        unsafe { output_stream_write(self.0, bytes.as_ptr(), bytes.len(), ret.ptr()) };
        ret.stream_result(4)
    }

    pub fn flush(&self) -> Result<(), StreamError> {
        let mut ret = ReturnArea::new();
        // SAFETY: the stream is borrowed for the call; `ret` fits the result.
        unsafe { output_stream_flush(self.0, ret.ptr()) };
        ret.stream_result(4)
    }

    pub fn subscribe(&self) -> Pollable {
        // SAFETY: the stream is borrowed for the call; the pollable is its child, released first.
        unsafe { output_stream_subscribe(self.0) }
    }

    /// `[resource-drop]output-stream`: required before the body it writes is finished.
    pub fn release(self) {
        // SAFETY: the stream is ours, and this consumes it.
        unsafe { output_stream_drop(self) }
    }
}

/// One `tuple<field-name, field-value>` as the canonical ABI lays it out.
#[repr(C)]
pub struct Header<'a> {
    name: *const u8,
    name_len: usize,
    value: *const u8,
    value_len: usize,
    _borrows: core::marker::PhantomData<&'a [u8]>,
}

impl<'a> Header<'a> {
    pub fn new(name: &'a str, value: &'a [u8]) -> Header<'a> {
        Header {
            name: name.as_ptr(),
            name_len: name.len(),
            value: value.as_ptr(),
            value_len: value.len(),
            _borrows: core::marker::PhantomData,
        }
    }
}

impl<'a> Header<'a> {
    /// The name of an entry the host listed (`fields.entries`).
    pub fn name(&self) -> &'a str {
        // SAFETY: the host wrote the name, UTF-8, with the list, which lives with the request.
        unsafe { str_from_host(bytes_from_host(self.name, self.name_len)) }
    }

    /// The value of an entry the host listed (`fields.entries`).
    pub fn value(&self) -> &'a [u8] {
        // SAFETY: the host wrote the value with the list, which lives with the request.
        unsafe { bytes_from_host(self.value, self.value_len) }
    }
}

impl Fields {
    /// `fields.from-list`: fails when the host refuses a name or a value (or forbids the header).
    pub fn from_list(headers: &[Header]) -> Result<Fields, ()> {
        let mut ret = ReturnArea::new();
        // SAFETY: `headers` (and the bytes each borrows) are valid for the call, which copies them.
        unsafe { fields_from_list(headers.as_ptr(), headers.len(), ret.ptr()) };
        ret.handle().map(Fields)
    }

    /// Every entry, then the fields handed back (they are a child of a request or a response):
    /// the list itself lives as long as the request.
    pub fn take_entries(self) -> &'static [Header<'static>] {
        let mut ret = ReturnArea::new();
        // SAFETY: the fields are borrowed for the call; `ret` fits a `list<tuple<string, list<u8>>>`,
        // whose elements are laid out as `Header` is.
        unsafe { fields_entries(self.0, ret.ptr()) };
        // SAFETY: the fields are ours, and this consumes them; the list is a copy.
        unsafe { fields_drop(self) };
        ret.list(0)
    }
}

/// Bytes the host wrote into the instance's memory.
///
/// # Safety
/// `ptr` and `len` must come from a list the host returned, whose memory the allocator keeps.
pub(super) unsafe fn bytes_from_host(ptr: *const u8, len: usize) -> &'static [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: as the caller promises.
    unsafe { core::slice::from_raw_parts(ptr, len) }
}

/// A string the host wrote into the instance's memory.
///
/// # Safety
/// `bytes` must be a string the host lowered: the canonical ABI has it checked to be UTF-8.
pub(super) unsafe fn str_from_host(bytes: &'static [u8]) -> &'static str {
    // SAFETY: as the caller promises.
    unsafe { core::str::from_utf8_unchecked(bytes) }
}

impl IncomingBody {
    pub fn stream(&self) -> Result<InputStream, ()> {
        let mut ret = ReturnArea::new();
        // SAFETY: the body is borrowed for the call; the stream is its child, released first.
        unsafe { incoming_body_stream(self.0, ret.ptr()) };
        ret.handle().map(InputStream)
    }

    pub fn release(self) {
        // SAFETY: the body is ours, and this consumes it.
        unsafe { incoming_body_drop(self) }
    }
}

impl OutgoingBody {
    pub fn write(&self) -> Result<OutputStream, ()> {
        let mut ret = ReturnArea::new();
        // SAFETY: the body is borrowed for the call; the stream is its child, released first.
        unsafe { outgoing_body_write(self.0, ret.ptr()) };
        ret.handle().map(OutputStream)
    }

    /// Drops the body unfinished: the host then knows the body is incomplete and fails the request.
    pub fn abandon(self) {
        // SAFETY: the body is ours, and this consumes it.
        unsafe { outgoing_body_drop(self) }
    }

    /// `outgoing-body.finish` without trailers.
    pub fn finish(self) -> Result<(), ErrorCase> {
        let mut ret = ReturnArea::new();
        // SAFETY: the body is ours, and this consumes it; `ret` fits `result<_, error-code>`.
        unsafe { outgoing_body_finish(self, 0, 0, ret.ptr()) };
        match ret.byte(0) {
            0 => Ok(()),
            _ => Err(ret.byte(8)),
        }
    }
}

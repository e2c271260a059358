//! What a `no_std` component needs from its crate: an allocator and a panic handler.
//!
//! The allocator is a bump allocator that can grow its topmost block in place. Nothing the
//! relay allocates outlives the request or command it serves, so freeing buys nothing and
//! `dealloc` does nothing; knowing that, the compiler drops every destructor that would only free
//! memory (1.5 KB of drop glue). Memory is reused in two places instead: each request starts on
//! an empty heap (`start_request`, for hosts that reuse an instance), and a stream reader hands
//! each chunk back (`release`) once it is copied, which keeps a 10 MB answer in a flat few
//! hundred KB and leaves a request body the topmost block, to grow in place as it arrives (its
//! memory is its size, not the sum of the copies a doubling vector leaves behind). Linear memory
//! is grown a page run at a time with `memory.grow`; when the host refuses, an allocation fails
//! with a null pointer, which `try_reserve` reports; every other allocation then panics, and the
//! panic handler answers with the memory's error before the instance stops.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;

const PAGE: usize = 65536;

struct Heap {
    next: usize,
    end: usize,
    /// The most recent allocation, and where the heap's top was before it (alignment padding
    /// included), so that handing it back frees its padding too.
    last: usize,
    before_last: usize,
}

struct BumpAllocator(UnsafeCell<Heap>);

// SAFETY: a component instance runs one thread, so the heap is never shared between threads.
unsafe impl Sync for BumpAllocator {}

/// The heap's bookkeeping.
fn heap() -> &'static mut Heap {
    // SAFETY: one thread (above), and each caller below uses the reference within one call that
    // takes no other, so no two of them are alive at once.
    unsafe { &mut *ALLOCATOR.0.get() }
}

#[global_allocator]
static ALLOCATOR: BumpAllocator = BumpAllocator(UnsafeCell::new(Heap { next: 0, end: 0, last: 0, before_last: 0 }));

unsafe extern "C" {
    static __heap_base: u8;
}

impl Heap {
    /// Makes `[start, start + size)` available, growing memory if needed; false when the host refuses.
    fn reserve(&mut self, start: usize, size: usize) -> bool {
        let Some(wanted_end) = start.checked_add(size) else { return false };
        if wanted_end <= self.end {
            return true;
        }
        let pages = (wanted_end - self.end).div_ceil(PAGE);
        // The last page of a 4 GiB memory is never asked for: its end, 2^32, is no `usize`
        // (wrapped to 0, the heap took itself for new and every allocation after failed).
        let Some(end) = pages.checked_mul(PAGE).and_then(|bytes| self.end.checked_add(bytes)) else { return false };
        if wasm32::memory_grow(0, pages) == usize::MAX {
            return false;
        }
        self.end = end;
        true
    }

    fn alloc(&mut self, layout: Layout) -> *mut u8 {
        if self.end == 0 {
            self.next = core::ptr::addr_of!(__heap_base) as usize;
            self.end = wasm32::memory_size(0) * PAGE;
        }
        let start = (self.next + layout.align() - 1) & !(layout.align() - 1);
        if !self.reserve(start, layout.size()) {
            return core::ptr::null_mut();
        }
        self.before_last = self.next;
        self.last = start;
        self.next = start + layout.size();
        start as *mut u8
    }
}

// SAFETY: blocks are disjoint ranges of linear memory that `reserve` made available, aligned as
// asked; a block is reused only when the request that allocated it has ended (`start_request`) or
// its owner handed it back (`release`).
unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        heap().alloc(layout)
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let heap = heap();
        // The topmost block grows in place, however long ago it was allocated.
        if ptr as usize + layout.size() == heap.next {
            if !heap.reserve(ptr as usize, new_size) {
                return core::ptr::null_mut();
            }
            heap.next = ptr as usize + new_size;
            return ptr;
        }
        // SAFETY: the alignment comes from a valid layout, and `realloc`'s contract keeps the
        // new size within `isize` once rounded up to it.
        let new = heap.alloc(unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) });
        if !new.is_null() {
            // SAFETY: the old block holds `layout.size()` bytes, the new one `new_size`; a new
            // block lies above every live one, so they do not overlap.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}

/// Forgets every block. Called as a request starts: nothing outlives the request that allocated
/// it, so a host that reuses an instance for many requests (`wasmtime serve
/// --max-instance-reuse-count`) gets each served in the memory of the first, instead of a heap
/// that grows until the instance runs out of memory.
#[cfg(feature = "http")]
pub fn start_request() {
    forget_all();
}

/// Forgets every block: as a request starts, or when the memory ran out (`panic`).
fn forget_all() {
    let heap = heap();
    if heap.end != 0 {
        heap.next = core::ptr::addr_of!(__heap_base) as usize;
        heap.last = 0;
        heap.before_last = 0;
    }
}

/// Whether `bytes` more fit on the heap, growing memory for them if needed: asked before the host
/// is given a list to fill, since the host cannot be refused (an allocation it asks for that fails
/// can only trap).
pub fn fits(bytes: u64) -> bool {
    let heap = heap();
    heap.end != 0 && usize::try_from(bytes).is_ok_and(|bytes| heap.reserve(heap.next, bytes))
}

/// Hands back `list`, a block the host has just allocated (a chunk read from a stream, a
/// `poll` result), when nothing was allocated after it, or nothing that is still alive (a
/// shape's evaluation rewound, below); otherwise it stays, as every block does.
pub fn release<T>(list: alloc::vec::Vec<T>) {
    let heap = heap();
    let start = list.as_ptr() as usize;
    if start == heap.last {
        heap.next = heap.before_last;
        heap.last = 0;
    } else if start + list.capacity() * core::mem::size_of::<T>() == heap.next {
        heap.next = start;
        heap.last = 0;
    }
}

/// The heap's top, for [`rewind`].
fn mark() -> usize {
    heap().next
}

/// Forgets every block above `mark`, which the caller has seen die: what evaluating one
/// streamed element of a shape allocated (`shape::Shaper` calls it only when the outputs it keeps
/// lie below the mark). The heap of a 100 MB array shaped element by element stays a few pages.
fn rewind(mark: usize) {
    let heap = heap();
    if heap.end != 0 && mark != 0 && mark <= heap.next {
        heap.next = mark;
        heap.last = 0;
    }
}

/// The heap's mark and rewind, as a shape's evaluation takes them.
pub const SCRATCH: crate::shape::Scratch = crate::shape::Scratch { mark, rewind };

/// The canonical ABI's allocation entry point, through which the host hands strings and lists to
/// the component. wit-bindgen's runtime leaves it to std on wasm32-wasip2; this crate has no std.
// spin-sdk links std, which brings its own `cabi_realloc`, `memcmp` (wasi-libc) and panic handler.
#[cfg(not(feature = "spin-via-sdk"))]
#[no_mangle]
unsafe extern "C" fn cabi_realloc(old: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
    // SAFETY: the canonical ABI passes a power-of-two alignment, sizes it can address, and for a
    // reallocation a block this allocator returned with that size and alignment.
    let block = unsafe {
        if old_len == 0 {
            if new_len == 0 {
                return align as *mut u8;
            }
            ALLOCATOR.alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            ALLOCATOR.realloc(old, Layout::from_size_align_unchecked(old_len, align), new_len)
        }
    };
    // The host would write its list at address 0: a trap is the only safe answer.
    if block.is_null() {
        wasm32::unreachable()
    }
    block
}

/// LLVM lowers slice comparisons to `memcmp`, which a `no_std` build gets from nowhere else
/// (wasi-libc's unrolled one would cost 20 KB).
#[cfg(not(feature = "spin-via-sdk"))]
#[no_mangle]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, len: usize) -> i32 {
    for i in 0..len {
        // SAFETY: LLVM calls it with two ranges of `len` readable bytes.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// What is left to panic is the memory: an allocation the host refused (`handle_alloc_error`
/// panics without std) or a vector grown past `isize`, in the middle of anything (a shape's
/// values can outgrow any limit: `{a: .b[], c: .b[], d: .b[]}` is the cube of `.b`'s length).
/// What filled the heap is abandoned, so the heap starts over for the error's answer, given as
/// any other error's (the HTTP component's 500 `out_of_memory`, the command's exit code 6), and
/// the instance stops: a trap, once the answer is out.
#[cfg(not(feature = "spin-via-sdk"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    forget_all();
    super::out_of_memory();
    wasm32::unreachable()
}

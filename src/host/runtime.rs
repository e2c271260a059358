//! What a `no_std` component needs from its crate: an allocator and a panic handler.
//!
//! The allocator is a bump allocator that can grow its most recent block in place. Nothing the
//! relay allocates outlives the request or command it serves, so freeing buys nothing and
//! `dealloc` does nothing; knowing that, the compiler drops every destructor that would only free
//! memory (1.5 KB of drop glue). Memory is reused in two places instead: each request starts on
//! an empty heap ([`start_request`], for hosts that reuse an instance), and a stream reader hands
//! each chunk back ([`release`]) before reading the next, which keeps a 10 MB answer in a flat
//! few hundred KB. Linear memory is grown a page run at a time with `memory.grow`.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;

const PAGE: usize = 65536;

struct Heap {
    next: usize,
    end: usize,
    last: usize,
}

struct BumpAllocator(UnsafeCell<Heap>);

// A component instance has one thread.
unsafe impl Sync for BumpAllocator {}

#[global_allocator]
static ALLOCATOR: BumpAllocator = BumpAllocator(UnsafeCell::new(Heap { next: 0, end: 0, last: 0 }));

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
        if wasm32::memory_grow(0, pages) == usize::MAX {
            return false;
        }
        self.end += pages * PAGE;
        true
    }

    fn alloc(&mut self, layout: Layout) -> *mut u8 {
        if self.end == 0 {
            self.next = core::ptr::addr_of!(__heap_base) as usize;
            self.end = wasm32::memory_size(0) * PAGE;
        }
        let start = (self.next + layout.align() - 1) & !(layout.align() - 1);
        if !self.reserve(start, layout.size()) {
            out_of_memory();
        }
        self.last = start;
        self.next = start + layout.size();
        start as *mut u8
    }
}

unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        (*self.0.get()).alloc(layout)
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let heap = &mut *self.0.get();
        if ptr as usize == heap.last && heap.reserve(heap.last, new_size) {
            heap.next = heap.last + new_size;
            return ptr;
        }
        let new = heap.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
        new
    }
}

/// Forgets every block. Called as a request starts: nothing outlives the request that allocated
/// it, so a host that reuses an instance for many requests (`wasmtime serve
/// --max-instance-reuse-count`) gets each served in the memory of the first, instead of a heap
/// that grows until the instance runs out of memory.
#[cfg(feature = "http")]
pub fn start_request() {
    let heap = unsafe { &mut *ALLOCATOR.0.get() };
    if heap.end != 0 {
        heap.next = core::ptr::addr_of!(__heap_base) as usize;
        heap.last = 0;
    }
}

/// Hands back `list`, a block the host has just allocated (a chunk read from a stream, a
/// `poll` result), when nothing was allocated after it; otherwise it stays, as every block does.
pub fn release<T>(list: alloc::vec::Vec<T>) {
    let heap = unsafe { &mut *ALLOCATOR.0.get() };
    if list.as_ptr() as usize == heap.last {
        heap.next = heap.last;
    }
}

/// The canonical ABI's allocation entry point, through which the host hands strings and lists to
/// the component. wit-bindgen's runtime leaves it to std on wasm32-wasip2; this crate has no std.
// spin-sdk links std, which brings its own `cabi_realloc`, `memcmp` (wasi-libc) and panic handler.
#[cfg(not(feature = "spin-via-sdk"))]
#[no_mangle]
unsafe extern "C" fn cabi_realloc(old: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
    if old_len == 0 {
        if new_len == 0 {
            return align as *mut u8;
        }
        ALLOCATOR.alloc(Layout::from_size_align_unchecked(new_len, align))
    } else {
        ALLOCATOR.realloc(old, Layout::from_size_align_unchecked(old_len, align), new_len)
    }
}

/// Out of memory ends the instance here rather than through `alloc`'s error handler: its
/// message formatting (about 1 KB of code and tables) would be dead weight in a `no_std`
/// component that cannot print a panic anyway. The outcome is the same trap.
#[cold]
fn out_of_memory() -> ! {
    wasm32::unreachable()
}

/// LLVM lowers slice comparisons to `memcmp`, which a `no_std` build gets from nowhere else
/// (wasi-libc's unrolled one would cost 20 KB).
#[cfg(not(feature = "spin-via-sdk"))]
#[no_mangle]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, len: usize) -> i32 {
    for i in 0..len {
        let (x, y) = (*a.add(i), *b.add(i));
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

#[cfg(not(feature = "spin-via-sdk"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    wasm32::unreachable()
}

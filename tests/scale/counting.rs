//! The binary's global allocator, counting per thread so that tests running in parallel on
//! other threads never disturb a measurement: the allocations made while a flag is up
//! ([`allocations`]), and the bytes held ([`held_now`]).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static HELD: Cell<isize> = const { Cell::new(0) };
}

/// An allocation of `size` bytes (a negative size frees).
fn note(size: isize, is_allocation: bool) {
    // `try_with`: the allocator also runs while thread-locals are being torn down.
    let _ = HELD.try_with(|held| held.set(held.get() + size));
    if is_allocation && COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every method forwards to the system allocator unchanged; counting touches only
// const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize, true);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize, true);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as isize - layout.size() as isize, true);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize), false);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many allocations `f` makes on this thread.
pub fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let result = black_box(f());
    COUNTING.with(|c| c.set(false));
    (ALLOCATIONS.with(Cell::get), result)
}

/// The bytes held by this thread's allocations, less what it freed, since it started.
pub fn held_now() -> isize {
    HELD.with(Cell::get)
}

/// Held by the tests that measure the process's memory, or move a lot of it, so that they run
/// one at a time: a measurement of the whole process must not see another test's traffic.
static MEMORY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// [`MEMORY`], from a test that is not async.
pub fn memory_exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    MEMORY.blocking_lock()
}

/// [`MEMORY`], from an async test.
pub async fn memory_exclusive_async() -> tokio::sync::MutexGuard<'static, ()> {
    MEMORY.lock().await
}

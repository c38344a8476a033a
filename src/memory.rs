//! The process's memory: mimalloc as the global allocator, for everything built on this crate — the
//! binary, and the tests and benches that run the server in process, so they measure what ships.
//! glibc's malloc took about 30 % of the server's CPU on the get_nutrition path (its arena locks,
//! consolidation and aligned allocations; profile in BENCHMARKS.md).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gives the pages freed so far back to the OS now. mimalloc purges freed memory only when the
/// allocator is next busy, so one large short-lived buffer (argon2's 19 MiB when the owner
/// password is hashed at first start) would otherwise stay resident while the server sits idle.
pub fn release_freed() {
    // SAFETY: `mi_collect` has no preconditions; it only walks mimalloc's own heaps and arenas.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

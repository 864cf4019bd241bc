//! The verinit binary: as PID 1 it boots, otherwise it is the dry run's command line.

/// Small blocks from pools that keep what is freed (`heap.rs` says why).
#[global_allocator]
static HEAP: verinit::heap::PoolAllocator = verinit::heap::PoolAllocator::new();

fn main() {
    if nix::unistd::getpid().as_raw() == 1 {
        verinit::boot::run();
    }
    std::process::exit(verinit::cli::main());
}

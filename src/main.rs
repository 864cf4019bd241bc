//! The verinit binary: as PID 1 it boots, otherwise it is the dry run's command line.

fn main() {
    if nix::unistd::getpid().as_raw() == 1 {
        verinit::boot::run();
    }
    std::process::exit(verinit::cli::main());
}

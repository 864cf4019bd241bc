fn main() {
    std::process::exit(verinit::cli::main());
}

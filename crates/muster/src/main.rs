//! The `muster` binary. All behaviour lives in `muster-cli`.
fn main() {
    std::process::exit(muster_cli::main());
}

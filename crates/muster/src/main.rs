//! The `muster` binary. All behaviour lives in `muster-cli`.
fn main() {
    // `muster inspect ... | head` closes stdout early: end quietly, as other Unix tools do, instead of
    // reporting a panic from `println!`.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
    std::process::exit(muster_cli::main());
}

//! The `muster eval` command (crates/muster-cli/src/eval.rs) as a stand-alone program, so this crate can
//! build and exercise it on its own: `cargo run -p muster-eval --example eval_cli -- --evals evals`.

#[path = "../../muster-cli/src/eval.rs"]
mod eval;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "muster-eval")]
struct Cli {
    #[command(flatten)]
    args: eval::EvalArgs,
}

fn main() {
    let cli = Cli::parse();
    let code = match eval::eval(cli.args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    };
    std::process::exit(code);
}

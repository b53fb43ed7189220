fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let src = std::fs::read_to_string(&path).unwrap_or_default();
    let c = muster_spec::check(&src, &path);
    print!("{}", muster_diag::render_human(&c.diagnostics, &src));
    println!("{}", muster_diag::summary(&c.diagnostics));
}

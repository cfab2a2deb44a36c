//! Prints the published tables: `cargo run -p liveform-core --example docs_tables -- errors|params`.
fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("errors") => print!("{}", liveform_core::errors::catalogue_markdown()),
        Some("params") => print!("{}", liveform_core::launch::spec::params_markdown()),
        _ => eprintln!("usage: docs_tables errors|params"),
    }
}

//! The first screen's wasm file (built by Trunk as the page's main module).

fn main() {
    liveform_welcome::start();
}

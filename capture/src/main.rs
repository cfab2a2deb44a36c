//! The capture module's wasm file (built by Trunk as `liveform-capture`, imported by the first
//! screen when a capture step starts; see `liveform_web::module`).

fn main() {
    liveform_web::entry::serve(
        |host, config, emit| Box::new(liveform_capture::mount(host, config, emit)),
        &liveform_ui::i18n::SUPPORTED,
    );
}

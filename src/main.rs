//! The app module's wasm file (built by Trunk as `liveform-app`, imported by the first screen,
//! `welcome/`, as soon as it has rendered; see `liveform_web::module::app_module`).

fn main() {
    liveform_web::app_entry::serve(liveform_app::mount);
}

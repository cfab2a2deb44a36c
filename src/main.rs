fn main() {
    liveform_app::start();
}

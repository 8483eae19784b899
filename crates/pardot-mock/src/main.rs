//! The `pardot-mock` binary.

fn main() {
    eprintln!("pardot-mock: the server is not built yet");
    std::process::exit(2);
}

//! The `vault` binary: everything happens in the library's `run`.

fn main() -> std::process::ExitCode {
    vault::run(std::env::args_os())
}

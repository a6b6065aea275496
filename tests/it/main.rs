//! Integration tests: every test runs the real `vault` binary in a
//! temporary directory, with the keyring off and a scrubbed environment, so
//! the suite never touches a real user's vault or keyring.
//!
//! All files compile into this one test binary; one file per feature.

mod support;

mod exec;
mod exec_mask;
mod exec_refuse;
mod exec_signals;
mod init;

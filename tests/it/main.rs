//! Integration tests: every test runs the real `vault` binary in a
//! temporary directory, with the keyring off and a scrubbed environment, so
//! the suite never touches a real user's vault or keyring; keyring.rs turns
//! it on only inside throwaway kernel session keyrings of its own.
//!
//! All files compile into this one test binary; one file per feature.

mod output;
mod rows;
mod support;

mod add;
mod agents;
mod audit;
mod audit_verify;
mod bundles;
mod check;
mod ci;
mod completions;
mod dangerous;
mod delete;
mod environments;
mod environments_git;
mod environments_gone;
mod exec;
mod exec_cache;
mod exec_ci;
mod exec_core;
mod exec_files;
mod exec_files_refuse;
mod exec_files_tools;
mod exec_in_place;
mod exec_log;
mod exec_mask;
mod exec_mask_shapes;
mod exec_refuse;
mod exec_signals;
mod gitmerge;
mod gitmerge_rules;
mod grants;
mod grants_refuse;
mod hostile;
mod import;
mod import_expand;
mod init;
mod json;
mod keyring;
mod keyring_lock;
mod leaks;
mod list;
mod man;
mod manifest;
mod manifest_errors;
mod manifest_files;
mod mcp;
mod mcp_project;
mod mcp_setup;
mod metadata;
mod mistakes;
mod process_safety;
mod properties;
mod rekey;
mod rekey_attacks;
mod rekey_git;
mod reliability;
mod rename_rotate;
mod reports;
mod scan;
mod scan_git;
mod session_keyring;
mod shells;
mod side_files;
mod statements;
mod status;
mod storage;
mod tables;
mod tamper;
mod trust;
mod trust_git;
mod tty;
mod vectors;

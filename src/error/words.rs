//! How error messages put the things they name: a mistyped name without
//! what may be a value after its `=`, two options naming one variable, an
//! I/O error in a user's words.

/// A mistyped name as an error may repeat it: up to an `=`, as what follows
/// would be a value typed on the command line (`STRIPE_KEY=sk_live_...`).
pub(super) fn shown_name(name: &str) -> String {
    match name.split_once('=') {
        Some((name, _)) => format!("{name}=..."),
        None => name.to_owned(),
    }
}

/// Two options that name one variable: `--file names the variable A
/// twice`, or `the variable A is named by --env and by --file`.
pub(super) fn target_twice(var: &str, first: &str, second: &str) -> String {
    if first == second {
        format!("{first} names the variable {var} twice")
    } else {
        format!("the variable {var} is named by {first} and by {second}")
    }
}

/// An I/O error in a user's words: `no such file`, `permission denied`,
/// without the `(os error 2)` that std appends.
pub(super) fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "no such file".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::IsADirectory => "it is a directory".into(),
        _ => {
            let text = e.to_string();
            let text = match text.find(" (os error ") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    }
}

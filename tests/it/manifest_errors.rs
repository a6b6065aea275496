//! Bad manifests: an unknown key, a bad pattern, a duplicate declaration,
//! a vault path that escapes the project, a variable that runs code. Each
//! is an error with the file, the line and the key, exit 2 (125 from
//! exec), and `--no-manifest` still reaches the vault.

use crate::manifest::{in_dir, project, HINT_MANIFEST, HINT_UNMET};

#[track_caller]
pub fn bad_manifest(text: &str, line: usize, message: &str) {
    let (env, root) = project(text);
    env.add("KEPT", "value-kept-1");
    let path = root.join("vault.toml");
    let message = format!("{} line {line}: {message}", path.display());
    // Refused by a command that reads and by one that would write, and
    // the vault is left as it was.
    env.refuses(
        in_dir(env.vault(&["list"]), &root),
        2,
        &message,
        Some(HINT_MANIFEST),
    );
    env.refuses(
        in_dir(env.vault(&["add", "NEW"]), &root)
            .passphrase()
            .stdin("value"),
        2,
        &message,
        Some(HINT_MANIFEST),
    );
    // --no-manifest still reaches every secret.
    in_dir(env.vault(&["list", "--no-manifest"]), &root)
        .run()
        .success()
        .stdout_has("KEPT ");
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    bad_manifest(
        "[vars.A]\ndescription = \"x\"\nrequird = true\n",
        3,
        "unknown field `requird`, expected one of `description`, `required`, `default`, `pattern`, `min_length`, `max_length`, `deny`, `environments`, `as`",
    );
    bad_manifest(
        "[projet]\nvault = \"v.db\"\n",
        1,
        "unknown field `projet`, expected `project` or `vars`",
    );
}

#[test]
fn a_bad_pattern_is_named_with_its_line() {
    let text = "[vars.A]\n\n[vars.B]\npattern = \"^(sk_\"\n";
    bad_manifest(
        text,
        4,
        "vars.B.pattern: invalid regular expression: unclosed group",
    );
    // exec checks patterns when it checks values: the same error, 125.
    let (env, root) = project(text);
    env.add("A", "value-of-a");
    env.add("B", "value-of-b");
    let out = in_dir(env.vault(&["exec", "--", "true"]), &root)
        .passphrase()
        .run();
    out.fails(
        125,
        &format!(
            "{} line 4: vars.B.pattern: invalid regular expression: unclosed group",
            root.join("vault.toml").display()
        ),
        Some(HINT_MANIFEST),
    );
}

/// A clone checks the values against the rules once per view: a value
/// rotated since, or a rule changed since, is checked again.
#[test]
fn rules_are_checked_again_when_the_value_or_the_rule_changes() {
    let (env, root) = project("[vars.TOKEN]\nmin_length = 10\n");
    env.add("TOKEN", "long-enough-1");
    let exec = || {
        in_dir(
            env.vault(&["exec", "--mask", "never", "--", "printenv", "TOKEN"]),
            &root,
        )
        .passphrase()
        .run()
    };
    exec().success().stdout_is("long-enough-1\n");
    exec().success().stdout_is("long-enough-1\n");
    std::fs::write(root.join("vault.toml"), "[vars.TOKEN]\nmin_length = 20\n").unwrap();
    exec().fails(
        125,
        "the manifest's required variables are not all available: TOKEN (its value breaks the rule: it must be at least 20 characters long)",
        Some(HINT_UNMET),
    );
    std::fs::write(root.join("vault.toml"), "[vars.TOKEN]\nmin_length = 10\n").unwrap();
    exec().success();
    env.vault(&["rotate", "TOKEN", "--no-manifest"])
        .passphrase()
        .stdin("short")
        .run()
        .success();
    exec().fails(
        125,
        "the manifest's required variables are not all available: TOKEN (its value breaks the rule: it must be at least 10 characters long)",
        Some(HINT_UNMET),
    );
}

#[test]
fn a_duplicate_declaration_is_named_with_its_line() {
    bad_manifest(
        "[vars.A]\nrequired = true\n\n[vars.A]\nrequired = false\n",
        4,
        "duplicate key",
    );
}

#[test]
fn a_vault_path_that_escapes_the_project_is_refused() {
    bad_manifest(
        "[project]\nvault = \"../../elsewhere/vault.db\"\n",
        2,
        "project.vault: \"../../elsewhere/vault.db\" is outside the project (give a path below the directory of vault.toml)",
    );
    bad_manifest(
        "[project]\nvault = \"/etc/vault.db\"\n",
        2,
        "project.vault: \"/etc/vault.db\" is outside the project (give a path below the directory of vault.toml)",
    );
}

#[test]
fn a_dangerous_or_malformed_name_is_refused() {
    bad_manifest(
        "[vars.LD_PRELOAD]\ndefault = \"/tmp/x.so\"\n",
        1,
        "vars.LD_PRELOAD: invalid variable name: it lets a value make the dynamic loader load or trace code it names",
    );
    bad_manifest(
        "[vars.\"MY-KEY\"]\n",
        1,
        "vars.MY-KEY: invalid variable name: it contains '-'",
    );
}

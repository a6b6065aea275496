//! Each error's hint: what the user can do next. Apart from the variants
//! (`mod.rs`) because it is the longest match in the crate, one arm per
//! variant that has something useful to say.

use super::Error;
use crate::model::NameProblem;

impl Error {
    /// What the user can do next, where there is something useful to say.
    pub fn hint(&self) -> Option<String> {
        use crate::env;
        Some(match self {
            Error::Close { error, close } => {
                let close: Vec<&str> = close.iter().map(String::as_str).collect();
                let guess = crate::suggest::did_you_mean(&close, "").unwrap_or_default();
                match error.hint() {
                    Some(hint) => format!("{guess} {hint}"),
                    None => guess,
                }
            }
            Error::NoVault(_) => "create one with `vault init`, or point --vault or VAULT_PATH at an existing one".into(),
            Error::VaultExists(_) | Error::PathTaken(_) => {
                "pass --vault PATH to create the vault elsewhere".into()
            }
            Error::NewerFormat { .. } => "upgrade vault to open this file; it was left untouched".into(),
            Error::Symlink(p) => format!("pass the real path: --vault \"$(readlink -f {})\"", p.display()),
            Error::SharedDirectory { dir, .. } => format!(
                "keep the vault in a directory only you can write: run chmod go-w {}, or move the vault and pass --vault PATH",
                dir.display()
            ),
            Error::UnsafeSideFile { path, .. } => format!(
                "vault did not make this file; look at it, then move it aside: mv {0} {0}.suspect",
                path.display()
            ),
            Error::Busy => "try again; if it persists, look for a stuck vault process".into(),
            Error::ChangedWhileRead(_) => "run it again: another vault command was writing a large change at that moment".into(),
            Error::Integrity(_) => "restore the vault file from a backup or from version control".into(),
            Error::Untrusted(_) => "someone changed the vault file outside vault: restore it from a copy you trust (`git log -p` on the file shows who changed it)".into(),
            Error::AgentExpired { identity, .. } => format!(
                "an admin adds a new agent for the next session: vault identity remove {identity}, then vault identity add {identity} --agent"
            ),
            Error::AgentRule { rule, .. } if rule.starts_with("always") => {
                "leave --mask out: an agent's output is always masked".into()
            }
            Error::AgentRule { .. } => {
                "say why, for the audit log: vault exec --reason 'run the tests' -- COMMAND".into()
            }
            Error::TooShortToMask(_) => {
                "name only the secrets the command needs (`secrets` in run, --only in exec), leaving that one out".into()
            }
            Error::AgentManage(identity) => {
                format!("grant it use only: vault grant NAME --to {identity}")
            }
            Error::RootChanged { .. } => "if this vault was re-created on purpose, run `vault trust accept` after checking the fingerprint with its owner".into(),
            Error::DangerousAtExec { first, .. } => format!("if you trust whoever added it, accept it for this run: vault exec --allow-dangerous-name {first} -- ..."),
            Error::OwnSecretGone { .. } => "if it was deleted or its access removed on purpose, run `vault trust accept`; otherwise restore the vault file from a copy you trust".into(),
            Error::RolledBack(_) => "if you put an older copy back on purpose (a backup), run `vault trust accept`".into(),
            Error::KeysForked(name) => format!("someone holding an old passphrase of {name} may have signed keys of their own: restore the file from a copy you trust; if you put an older copy back on purpose, run `vault trust accept`"),
            Error::AuditBroken { seq, .. } => {
                let intact = match seq - 1 {
                    n if n < 1 => String::new(),
                    1 => "entry 1 is intact; ".to_owned(),
                    n => format!("entries 1 to {n} are intact; "),
                };
                format!("the vault file was changed outside vault; {intact}restore it from a backup or from version control to recover the log")
            }
            Error::ExecLogBroken { path, .. } => format!(
                "{} was changed outside vault; move it aside to write the vault again \
                 (the runs it records then stay unrecorded)",
                path.display()
            ),
            Error::InvalidSecretName { problem: NameProblem::Dangerous(_), .. }
            | Error::ImportName { problem: NameProblem::Dangerous(_), .. } => {
                "pass --allow-dangerous-name if you really mean it".into()
            }
            Error::InvalidSecretName { .. } | Error::ImportName { .. } => {
                "names are environment variable names: letters, digits and _, not starting with a digit".into()
            }
            Error::ControlInText { .. } => {
                "metadata is shown on one line: write it without line breaks, tabs or escape sequences".into()
            }
            Error::InvalidIdentityName { .. } => {
                "identity names use letters, digits and . _ - @, starting with a letter or digit".into()
            }
            Error::SecretExists(n) => format!("to replace its value, use `vault rotate {}`", command_for(n)),
            Error::RenameTaken(_) => "choose another name, or delete that secret first".into(),
            Error::NoSecret(_) => "`vault list` shows the names".into(),
            Error::NothingToScanFor(_) => "check --vault or VAULT_PATH names the vault whose values to look for; `vault add NAME` stores one".into(),
            Error::HookExists(path) => format!(
                "add the line `vault scan --staged || exit 1` to {} yourself, or move it aside and run `vault git setup --hook` again",
                path.display()
            ),
            Error::NotInEnvironment { name, environment, found } => {
                let found: Vec<String> = found
                    .iter()
                    .map(|e| if e.is_empty() { "shared".to_owned() } else { e.clone() })
                    .collect();
                let it = format!("{name} is in: {}", found.join(", "));
                match environment {
                    Some(e) if found.iter().any(|f| f == "shared") => format!(
                        "{it}; leave out --environment (and VAULT_ENVIRONMENT) for the shared one, or add one for {e}: vault add {name} --environment {e}"
                    ),
                    Some(e) => format!("{it}; add one for {e}: vault add {name} --environment {e}"),
                    None => format!("{it}; choose one with --environment ENV"),
                }
            }
            Error::InvalidEnvironment { .. } => {
                "environment names use letters, digits and . _ -, starting with a letter or digit".into()
            }
            Error::Manifest { .. } => "fix vault.toml (the keys are in vault(1) under MANIFEST), or pass --no-manifest to ignore it".into(),
            Error::RuleRefused { .. } => "store a real value (the rule is in the manifest), or change the rule there".into(),
            Error::ManifestUnmet { .. } => "`vault check` lists what is missing; add or grant the secrets, or pass --no-manifest to run without the manifest".into(),
            Error::NoIdentity(_) => "`vault identity list` shows the identities".into(),
            Error::EmptyValue(_) => "pass --allow-empty to store an empty value".into(),
            Error::InvalidDuration { .. } => "use a duration such as 30s, 15m or 8h, at most 24h".into(),
            Error::InvalidPeriod { .. } => "use a duration such as 30d, 12h or 1w2d".into(),
            Error::ImportNotUtf8 { .. } => {
                "convert it first, for example with `iconv -f LATIN1 -t UTF-8`".into()
            }
            Error::ImportLine { .. } => {
                "each entry is NAME=value; quote a value with spaces (the line is not shown: it may hold a secret)".into()
            }
            Error::ImportEmpty(_) => "each entry is a line NAME=value".into(),
            Error::ImportDuplicate { .. } => "keep one entry for each name, then import again".into(),
            Error::ImportUnlockVariable { .. } => {
                "vault does not store what unlocks it: write the value itself".into()
            }
            Error::CacheUnavailable(_) => {
                "every command will unlock with the passphrase; `vault status` tells more".into()
            }
            Error::InvalidWhen { .. } => "use a date (2027-01-31) or a duration (90d, 12h)".into(),
            Error::WrongPassphrase(_) => "try again; a wrong passphrase changes nothing".into(),
            Error::NoPassphrase(_) => format!(
                "in CI, set {} to a machine identity's token (`vault identity add ci --token`); \
                 otherwise set {} or {}, pass --passphrase-file, or run at a terminal",
                env::ACCESS_TOKEN,
                env::PASSPHRASE_FILE,
                env::PASSPHRASE
            ),
            Error::KdfTooWeak { .. } | Error::KdfTooCostly { .. } => {
                "the identity record was changed outside vault; restore the file from a backup".into()
            }
            Error::MalformedToken(_) | Error::TokenRejected(_) => format!(
                "check that {} holds the whole token printed by `vault identity add NAME --token`",
                env::ACCESS_TOKEN
            ),
            Error::TokenUnknownIdentity => "the identity may have been removed; ask for a new token".into(),
            // Using a secret needs use access, which any manager can grant.
            Error::NotPermitted { identity, action: "use", secret, .. } => {
                let line = format!("vault grant {} --to {identity}", command_for(secret));
                format!("an identity that manages {secret} can grant it: `{line}`")
            }
            Error::NotPermitted { .. } => "ask an identity that manages it to do this, or to grant you manage access".into(),
            Error::LastManager { .. } => "grant manage access to another identity first, or delete those secrets".into(),
            Error::NeedsConfirmation => "pass --yes to delete without asking".into(),
            Error::NoValue(_) => "type the value at the prompt, pipe it on stdin, or pass --from-file PATH".into(),
            Error::NoCommand => "usage: vault exec [OPTIONS] -- COMMAND [ARGS]...".into(),
            Error::UnknownCommand { command, close, .. } => {
                let close: Vec<&str> = close.iter().map(String::as_str).collect();
                crate::suggest::did_you_mean(&close, "`")
                    .unwrap_or_else(|| format!("`{command} --help` lists the commands"))
            }
            Error::NoReadCommand(_) => {
                "a value reaches a program only through its environment: `vault exec --only NAME -- COMMAND`; `vault list` shows the names".into()
            }
            Error::NotACommand { instead, .. } => (*instead).into(),
            Error::UnknownOption { command, close, .. } => {
                let close: Vec<&str> = close.iter().map(String::as_str).collect();
                let list = format!("`{command} --help` lists the options");
                match crate::suggest::did_you_mean(&close, "") {
                    Some(guess) => format!("{guess} {list}"),
                    None => list,
                }
            }
            Error::ValueAsArgument { command, name } => format!(
                "values are never arguments, which stay in shell history and are visible to other processes: \
                 run `vault {command} {}` and type the value at the hidden prompt, pipe it on stdin, or pass --from-file PATH",
                name.as_deref().unwrap_or("NAME")
            ),
            Error::CommandNotFound(_) => "check the command's name and PATH".into(),
            Error::NoService(_) => "`vault list` shows each secret's service".into(),
            Error::NoAccessInService { identity, .. } => format!(
                "an identity that manages them can grant them: `vault grant NAME... --to {identity}`"
            ),
            Error::EnvMappingShape { .. } => "write --env GITHUB_TOKEN=GH_BOT_TOKEN: the variable, then the secret's name".into(),
            Error::EnvTarget { problem: NameProblem::Dangerous(_), .. } => {
                "add the secret under that name with `vault add --allow-dangerous-name` if you really mean it".into()
            }
            Error::EnvTarget { .. } => {
                "variable names use letters, digits and _, not starting with a digit".into()
            }
            Error::FileShape { option: "--render", .. } => {
                "write --render app.conf.tmpl=APP_CONFIG: the template, then the variable that gets its path".into()
            }
            Error::FileShape { .. } => {
                "write --file GOOGLE_APPLICATION_CREDENTIALS=GCP_SA_JSON (the variable, then the secret), or --file NAME".into()
            }
            Error::FileTarget { target, problem: NameProblem::Dangerous(_), .. } => format!(
                "if you mean it, accept it for this run: vault exec --allow-dangerous-name {target} ..."
            ),
            Error::FileTarget { .. } => {
                "variable names use letters, digits and _, not starting with a digit".into()
            }
            Error::TargetTwice { .. } => "give each variable one source".into(),
            Error::NoMemoryFiles { option } if option.starts_with("as ") => {
                "inject it as a variable instead: as = \"env\" in vault.toml".into()
            }
            Error::NoMemoryFiles { .. } => {
                "inject the secret as a variable instead (--env VAR=SECRET)".into()
            }
            Error::Template { .. } => {
                "a placeholder is {{ NAME }} on one line; write a literal {{ as {{ \"{{\" }}".into()
            }
            Error::NoPty(_) => {
                "pass --mask never to run it on the terminal unmasked, or send its output to a file or pipe, where it is masked without one".into()
            }
            Error::Expired(_) => "rotate them, or pass --allow-expired to inject them anyway".into(),
            Error::NotInRepository(_) => {
                "run `vault git setup` inside the repository that holds the vault (or `git init` one first)".into()
            }
            Error::OutsideWorkTree { .. } => {
                "keep the vault inside the repository and point --vault or VAULT_PATH at it".into()
            }
            Error::UnsafeGitPath(_) => "move the vault to a path of letters, digits, / . _ and -".into(),
            Error::GitMissing(_) => "install git, or put it on PATH".into(),
            Error::DifferentVaults { .. } => {
                "a merge cannot join two vaults; keep one with `git checkout --ours` or `--theirs` and re-add the other's secrets".into()
            }
            Error::NotConflicted(_) => {
                "resolve runs after `git merge` stopped on a conflict in the vault file; `git status` shows it".into()
            }
            Error::DeletedInMerge { path } => format!(
                "keep the remaining side with `git checkout --ours {path}` or `--theirs`, or `git rm {path}`"
            ),
            Error::NotInConflict { .. } => "name the secrets the merge reported".into(),
            Error::StillInConflict(_) => {
                "name every conflict in one command; to keep ours for some and theirs for others, keep one side for all, then redo the other side's change (rotate, grant) after the merge".into()
            }
            Error::DiskFull => "free some space and run the command again".into(),
            Error::ImportValue { problem, .. } => return problem.hint(),
            Error::TemplateSecret { error, .. } => return error.hint(),
            _ => return None,
        })
    }
}

/// A secret as a command line names it: `NAME`, or `NAME --environment
/// ENV` for the secret messages call `NAME (ENV)` (`model::label`).
pub(crate) fn command_for(label: &str) -> String {
    match label.split_once(" (") {
        Some((name, env)) => format!("{name} --environment {}", env.trim_end_matches(')')),
        None => label.to_owned(),
    }
}

//! The one error type users see: what went wrong, about what, and a hint for
//! what to do next.
//!
//! Messages are lowercase, name their subject (the file, the secret, the
//! identity), and never contain a secret value: variants only carry names,
//! paths and counts. `lib.rs` prints `error: ...` and `hint: ...` and turns
//! the variant into an exit status.

mod hint;
mod words;
pub(crate) use hint::command_for;
use words::{io_reason, shown_name, target_twice};

use std::path::PathBuf;

use crate::model::NameProblem;
use crate::time::WhenProblem;

/// Exit statuses. `exec` passes its child's own status through instead.
pub mod exit {
    pub const OK: u8 = 0;
    /// A report (`list --expiring`, `--needs-rotation`) found something.
    pub const FOUND: u8 = 1;
    /// vault failed: bad input, refused operation, damaged vault.
    pub const FAILURE: u8 = 2;
    /// `exec`: vault failed before running the command (as env(1)).
    pub const EXEC_FAILED: u8 = 125;
    /// `exec`: the command was found but could not be run.
    pub const NOT_EXECUTABLE: u8 = 126;
    /// `exec`: the command was not found.
    pub const NOT_FOUND: u8 = 127;
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("no vault at {}", .0.display())]
    NoVault(PathBuf),
    #[error("a vault already exists at {}", .0.display())]
    VaultExists(PathBuf),
    #[error("{} already exists and is not a vault", .0.display())]
    PathTaken(PathBuf),
    #[error("{} is not a vault file: {reason}", .path.display())]
    NotAVault { path: PathBuf, reason: String },
    #[error("{} was written by a newer vault (format {found}; this vault reads up to {supported})", .path.display())]
    NewerFormat {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{} is a symbolic link; vault opens only the real file", .0.display())]
    Symlink(PathBuf),
    #[error("{} is writable by others (mode {mode:04o}): they could plant files beside the vault", .dir.display())]
    SharedDirectory { dir: PathBuf, mode: u32 },
    #[error("refusing {}: {reason}", .path.display())]
    UnsafeSideFile { path: PathBuf, reason: String },
    #[error("cannot {action} {}: {}", .path.display(), io_reason(.source))]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("vault database error: {0}")]
    Database(String),
    #[error("the vault is busy: another vault command kept it locked for too long")]
    Busy,
    #[error("cannot write the vault: the disk is full or a file size limit was reached; nothing was changed")]
    DiskFull,
    #[error("cannot write the vault at {}: it is read-only", .0.display())]
    ReadOnly(PathBuf),
    #[error("the vault at {} changed while exec read it: nothing was handed to the program", .0.display())]
    ChangedWhileRead(PathBuf),
    #[error(
        "integrity check failed for {0}: the vault file was changed outside vault or is damaged"
    )]
    Integrity(String),
    /// A row whose writer is not who may write it, or an identity whose
    /// certificate does not chain to the vault's root.
    #[error("trust check failed: {0}")]
    Untrusted(String),
    #[error(
        "trust check failed: this vault's root is {found}, but {source_of_pin} pinned {pinned}"
    )]
    RootChanged {
        found: String,
        pinned: String,
        source_of_pin: &'static str,
    },
    #[error("trust check failed: {0} went back since this clone last saw it (an older copy of the file was put back)")]
    RolledBack(String),
    #[error("trust check failed: identity {0} holds keys this clone did not see it change to (a key succession forked from one of its earlier keys, or an older copy of the file put back)")]
    KeysForked(String),
    /// An environment's own secret that exec verified before is no longer
    /// in the view, and the shared secret of its name would stand in.
    #[error("secret {label} is gone from what {identity} can use (deleted, or its access removed, outside this clone): exec in {environment} would take the shared {name} in its place")]
    OwnSecretGone {
        label: String,
        identity: String,
        environment: String,
        name: String,
    },
    #[error("refusing to set {names}: a value there can run code inside the program")]
    DangerousAtExec { names: String, first: String },
    #[error("agent identity {identity} expired at {at}")]
    AgentExpired { identity: String, at: String },
    /// A rule every agent's exec follows (masking, a reason).
    #[error("agent identity {identity} {rule}")]
    AgentRule {
        identity: String,
        rule: &'static str,
    },
    #[error("not running: {0} is shorter than 6 bytes, too short to mask from an agent")]
    TooShortToMask(String),
    #[error("identity {0} is an agent, which only uses secrets: it cannot be granted manage")]
    AgentManage(String),
    #[error("{identity} may not {action}: {why}")]
    RoleRefused {
        identity: String,
        action: &'static str,
        why: String,
    },

    #[error("audit log broken at entry {seq} ({kind}): {detail}")]
    AuditBroken {
        seq: i64,
        kind: &'static str,
        detail: String,
    },

    #[error("exec log broken at line {line}: {detail}")]
    ExecLogBroken {
        path: PathBuf,
        line: usize,
        detail: String,
    },

    #[error("invalid secret name {:?}: {problem}", shown_name(.name))]
    InvalidSecretName { name: String, problem: NameProblem },
    #[error("invalid {option}: it contains the control character U+{:04X}", u32::from(*.found))]
    ControlInText { option: &'static str, found: char },
    #[error("invalid identity name {name:?}: {problem}")]
    InvalidIdentityName { name: String, problem: NameProblem },
    #[error("a secret named {0} already exists")]
    SecretExists(String),
    #[error("cannot rename to {0}: a secret of that name already exists")]
    RenameTaken(String),
    #[error("no secret named {0}")]
    NoSecret(String),
    #[error("the vault at {} holds no secrets: there is nothing to scan for", .0.display())]
    NothingToScanFor(PathBuf),
    #[error("{} already exists and was not written by vault", .0.display())]
    HookExists(PathBuf),
    /// A name that exists, but not in the environment asked for (nor
    /// shared): `found` are the environments it is in.
    #[error("no secret named {name} {}", match .environment {
        Some(e) => format!("in environment {e}"),
        None => "shared by all environments".to_owned(),
    })]
    NotInEnvironment {
        name: String,
        environment: Option<String>,
        found: Vec<String>,
    },
    #[error("invalid environment name {name:?}: {problem}")]
    InvalidEnvironment { name: String, problem: NameProblem },
    /// A manifest (`vault.toml`) that cannot be read as one.
    #[error("{}{}: {message}", .path.display(), .line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Manifest {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// A value the manifest's rule for its name refuses (never the value).
    #[error("the value of {name} breaks the rule of {}: {rule}", .path.display())]
    RuleRefused {
        name: String,
        rule: String,
        path: PathBuf,
    },
    /// exec in a project whose required variables are not all there.
    #[error("the manifest's required variables are not all available{}: {problems}", .environment.as_ref().map(|e| format!(" in environment {e}")).unwrap_or_default())]
    ManifestUnmet {
        environment: Option<String>,
        problems: String,
    },
    #[error("an identity named {0} already exists")]
    IdentityExists(String),
    #[error("no identity named {0}")]
    NoIdentity(String),
    #[error("the value of {0} is empty")]
    EmptyValue(String),
    #[error("the value of {0} contains a NUL byte, which an environment variable cannot hold")]
    NulInValue(String),
    #[error(
        "the value of {name} is too large: {size}, and one environment entry is limited to 128 KiB"
    )]
    ValueTooLarge { name: String, size: String },
    #[error("invalid duration {input:?}: {problem}")]
    InvalidDuration {
        input: String,
        problem: &'static str,
    },
    #[error("invalid {option} {input:?}: {problem}")]
    InvalidPeriod {
        option: &'static str,
        input: String,
        problem: &'static str,
    },
    #[error("cannot keep the unlocked key: {0}")]
    CacheUnavailable(String),
    #[error("invalid time {input:?}: {problem}")]
    InvalidWhen { input: String, problem: String },

    #[error("wrong passphrase for identity {0}")]
    WrongPassphrase(String),
    #[error("the passphrases do not match")]
    PassphraseMismatch,
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    #[error("the passphrase file {} is empty", .0.display())]
    EmptyPassphraseFile(PathBuf),
    #[error("no passphrase for identity {0}: no terminal to ask on")]
    NoPassphrase(String),
    #[error(
        "identity {identity} has Argon2id parameters below the floor (m={m_kib} KiB, t={t}, p={p})"
    )]
    KdfTooWeak {
        identity: String,
        m_kib: i64,
        t: i64,
        p: i64,
    },
    #[error("identity {identity} has absurd Argon2id parameters (m={m_kib} KiB, t={t}, p={p})")]
    KdfTooCostly {
        identity: String,
        m_kib: i64,
        t: i64,
        p: i64,
    },
    #[error("VAULT_ACCESS_TOKEN is malformed: {0}")]
    MalformedToken(&'static str),
    #[error("the access token was rejected by identity {0}")]
    TokenRejected(String),
    #[error("the access token belongs to no identity of this vault")]
    TokenUnknownIdentity,
    #[error("identity {identity} unlocks with {how}, not with {other}")]
    WrongCredentialKind {
        identity: String,
        how: &'static str,
        other: &'static str,
    },
    #[error("the access token is for identity {token}, but {asked} was asked for")]
    TokenIdentityMismatch { token: String, asked: String },

    #[error("identity {identity} cannot {action} {secret}: it has {have} access")]
    NotPermitted {
        identity: String,
        action: &'static str,
        secret: String,
        have: &'static str,
    },
    #[error("identity {identity} has no access to {secret} to revoke")]
    NoAccessToRevoke { identity: String, secret: String },
    #[error("cannot remove identity {identity}: it is the last one managing {secrets}")]
    LastManager { identity: String, secrets: String },
    #[error("cannot remove identity {0}: it is the only identity of this vault")]
    LastIdentity(String),

    #[error("refusing to delete without confirmation: there is no terminal to ask on")]
    NeedsConfirmation,
    #[error("cancelled: nothing was changed")]
    Declined,
    #[error("no value given for {0}")]
    NoValue(String),

    #[error("{} is not UTF-8 text (line {line}); nothing was imported", .path.display())]
    ImportNotUtf8 { path: PathBuf, line: usize },
    #[error("cannot parse line {line} of {}; nothing was imported", .path.display())]
    ImportLine { path: PathBuf, line: usize },
    #[error("{} holds no entries; nothing was imported", .0.display())]
    ImportEmpty(PathBuf),
    #[error("invalid secret name {name:?} on line {line} of {}: {problem}", .path.display())]
    ImportName {
        path: PathBuf,
        line: usize,
        name: String,
        problem: NameProblem,
    },
    #[error("line {line} of {} sets {name} again (first on line {first}); nothing was imported", .path.display())]
    ImportDuplicate {
        path: PathBuf,
        name: String,
        first: usize,
        line: usize,
    },
    #[error("line {line} of {}: {problem}; nothing was imported", .path.display())]
    ImportValue {
        path: PathBuf,
        line: usize,
        problem: Box<Error>,
    },
    #[error("line {line} of {} refers to {variable}, which unlocks the vault; nothing was imported", .path.display())]
    ImportUnlockVariable {
        path: PathBuf,
        line: usize,
        variable: &'static str,
    },

    #[error("unknown command `{word}` for `{command}`")]
    UnknownCommand {
        command: String,
        word: String,
        close: Vec<String>,
    },
    #[error("there is no `vault {0}`: secret values are write-only, and vault never shows one")]
    NoReadCommand(String),
    #[error("there is no `vault {word}`")]
    NotACommand { word: String, instead: &'static str },
    #[error("unknown option {option} for `{command}`")]
    UnknownOption {
        command: String,
        option: String,
        close: Vec<String>,
    },
    #[error("`vault {command}` takes no value on its command line; nothing was stored")]
    ValueAsArgument {
        command: &'static str,
        name: Option<String>,
    },

    /// An unknown name, with the known names close to it.
    #[error("{error}")]
    Close {
        error: Box<Error>,
        close: Vec<String>,
    },

    #[error("no command given to run")]
    NoCommand,
    #[error("{0}: command not found")]
    CommandNotFound(String),
    #[error("{program}: cannot run: {source}")]
    NotExecutable {
        program: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Selection(String),
    #[error("expired secrets: {0}")]
    Expired(String),
    #[error("no secret belongs to service {0}")]
    NoService(String),
    #[error("identity {identity} has no access to any secret of service {service}")]
    NoAccessInService { identity: String, service: String },
    #[error("invalid --env {input:?}: expected TARGET=SECRET")]
    EnvMappingShape { input: String },
    #[error("invalid --env target {target:?}: {problem}")]
    EnvTarget {
        target: String,
        problem: NameProblem,
    },
    #[error("--env names the variable {0} twice")]
    EnvTargetTwice(String),
    #[error("invalid {option} {input:?}: expected {shape}")]
    FileShape {
        option: &'static str,
        input: String,
        shape: &'static str,
    },
    #[error("invalid {option} target {target:?}: {problem}")]
    FileTarget {
        option: &'static str,
        target: String,
        problem: NameProblem,
    },
    #[error("{}", target_twice(.var, .first, .second))]
    TargetTwice {
        var: String,
        first: &'static str,
        second: &'static str,
    },
    #[error("{option} needs memory files (memfd_create), which this system does not have; vault never writes a secret to a temporary file instead")]
    NoMemoryFiles { option: &'static str },
    #[error("cannot make the memory file for {var}: {}", io_reason(.source))]
    MemoryFileCreate { var: String, source: std::io::Error },
    #[error("cannot hand the memory files to the program: {}", io_reason(.0))]
    MemoryFile(std::io::Error),
    /// A placeholder naming a secret exec cannot use: `error` says why.
    #[error("line {line} of the template {}: {error}", .path.display())]
    TemplateSecret {
        path: PathBuf,
        line: usize,
        error: Box<Error>,
    },
    #[error("line {line} of the template {}: {problem}", .path.display())]
    Template {
        path: PathBuf,
        line: usize,
        problem: String,
    },
    #[error("not inside a git repository: {}", .0.display())]
    NotInRepository(PathBuf),
    #[error("the vault file {} is outside the work tree of the repository at {}", .vault.display(), .root.display())]
    OutsideWorkTree { vault: PathBuf, root: PathBuf },
    #[error("cannot use the vault path {0:?} in .gitattributes: it contains a space, a quote or a pattern character")]
    UnsafeGitPath(String),
    #[error("cannot run git: {0}")]
    GitMissing(String),
    #[error("git {command} failed: {message}")]
    Git { command: String, message: String },
    #[error("cannot merge {path}: ours and theirs are copies of two different vaults")]
    DifferentVaults { path: String },
    #[error("{0} is not in a stopped merge")]
    NotConflicted(String),
    #[error("{path} was deleted on one side of the merge")]
    DeletedInMerge { path: String },
    #[error("nothing named {names} is in conflict; in conflict: {conflicts}")]
    NotInConflict { names: String, conflicts: String },
    #[error("still in conflict: {0}")]
    StillInConflict(String),
    #[error("cannot open a pseudo-terminal for the program's output: {0}")]
    NoPty(std::io::Error),
    #[error("cannot {action} while running the program: {source}")]
    Supervise {
        action: &'static str,
        source: std::io::Error,
    },
}

impl Error {
    /// The exit status for this error outside `exec`; `exec` maps its own.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Close { error, .. } => error.exit_code(),
            Error::CommandNotFound(_) => exit::NOT_FOUND,
            Error::NotExecutable { .. } => exit::NOT_EXECUTABLE,
            _ => exit::FAILURE,
        }
    }

    pub fn secret_name(name: &str, problem: NameProblem) -> Self {
        Error::InvalidSecretName {
            name: name.to_owned(),
            problem,
        }
    }

    pub fn identity_name(name: &str, problem: NameProblem) -> Self {
        Error::InvalidIdentityName {
            name: name.to_owned(),
            problem,
        }
    }

    pub fn when(input: &str, problem: WhenProblem) -> Self {
        let problem = match problem {
            WhenProblem::Unparsable => "not a date or a duration",
            WhenProblem::InPast => "it is in the past",
            WhenProblem::TooFar => "it is too far in the future",
        };
        Error::InvalidWhen {
            input: input.to_owned(),
            problem: problem.to_owned(),
        }
    }

    /// A duration option (`--expiring`, `--rotate-every`) that does not parse.
    pub fn period(option: &'static str, input: &str, problem: WhenProblem) -> Self {
        Error::InvalidPeriod {
            option,
            input: input.to_owned(),
            problem: match problem {
                WhenProblem::TooFar => "it is too long",
                _ => "not a duration",
            },
        }
    }

    pub fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

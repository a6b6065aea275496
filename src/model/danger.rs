//! Names whose value changes what a program does rather than what it
//! knows: the one list of them, and [`name_danger`], the one function that
//! classifies a name. `add`, `import`, `rename` and `exec --env` call it
//! through `SecretName::parse`; exec calls it for the warnings it prints.
//!
//! Each entry cites the documentation that says the program honours the
//! variable. The list errs towards refusing: a refused name costs its user
//! one `--allow-dangerous-name`, a missing one lets a value run code in
//! every program exec starts. Names are compared in ASCII upper case, as
//! Windows compares them (`https_proxy` is also what curl reads).
//!
//! Pure data and a pure function: depends on nothing.

/// What a variable lets its value do, and so what vault does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DangerClass {
    /// The value runs or loads code in the program, or points it at
    /// configuration, start-up files or hooks that do. Refused by `add`,
    /// `import`, `rename` and `exec --env` unless `--allow-dangerous-name`.
    RunsCode,
    /// The value decides which TLS certificates the program trusts, turns
    /// verification off, or writes its session keys out. Refused as
    /// `RunsCode` is: its value is a path or a switch, never a secret, so
    /// a vault has no reason to carry it and an attacker every reason.
    WeakensTrust,
    /// The value sends the program's traffic somewhere else (a proxy, a
    /// daemon). Allowed, because a proxy URL with a password is a real
    /// secret; `exec` prints the effect each time it injects one.
    RedirectsTraffic,
}

impl DangerClass {
    /// Whether names of this class are refused unless explicitly allowed.
    pub fn refused(self) -> bool {
        !matches!(self, DangerClass::RedirectsTraffic)
    }
}

/// Why a name is dangerous: its class and what its value does, in a few
/// words that complete "it lets a value ..." (`make git run the program it
/// names`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Danger {
    pub class: DangerClass,
    pub effect: &'static str,
}

/// How an entry matches: the whole name, or any name starting with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Exact(&'static str),
    Prefix(&'static str),
}

/// One entry of the list.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub name: Match,
    pub danger: Danger,
}

/// Classifies a variable name: `None` when its value is only data to the
/// programs vault knows of. A pure function of the name, so that every
/// check (at `add`, `import`, `rename`, `exec --env`, and exec reading a
/// stored name) gives the same answer.
pub fn name_danger(name: &str) -> Option<Danger> {
    // exec asks this of every variable it sets, twice: no allocation, and
    // only the entries that begin with the name's first letter are tried
    // (a name can match no other), in the list's order.
    let bytes = name.as_bytes();
    let first = bytes.first()?.to_ascii_uppercase();
    by_first_letter()[usize::from(first)]
        .iter()
        .map(|&i| &ENTRIES[usize::from(i)])
        .find(|e| {
            let (text, exact) = match e.name {
                Match::Exact(n) => (n, true),
                Match::Prefix(p) => (p, false),
            };
            let t = text.as_bytes();
            (bytes.len() == t.len() || !exact && bytes.len() > t.len())
                && bytes[..t.len()].eq_ignore_ascii_case(t)
        })
        .map(|e| e.danger)
}

/// The indices of [`ENTRIES`] by the upper case of their first byte, each
/// list in the order of the list.
fn by_first_letter() -> &'static [Vec<u8>; 256] {
    static BUCKETS: std::sync::OnceLock<[Vec<u8>; 256]> = std::sync::OnceLock::new();
    BUCKETS.get_or_init(|| {
        let mut buckets: [Vec<u8>; 256] = std::array::from_fn(|_| Vec::new());
        for (i, entry) in ENTRIES.iter().enumerate() {
            let (Match::Exact(text) | Match::Prefix(text)) = entry.name;
            let first = text.as_bytes()[0].to_ascii_uppercase();
            buckets[usize::from(first)].push(u8::try_from(i).expect("fewer than 256 entries"));
        }
        buckets
    })
}

/// Every entry, in the order [`name_danger`] tries them (the tests check
/// each one against the binary).
pub fn entries() -> &'static [Entry] {
    ENTRIES
}

const fn code(effect: &'static str) -> Danger {
    Danger {
        class: DangerClass::RunsCode,
        effect,
    }
}

const fn trust(effect: &'static str) -> Danger {
    Danger {
        class: DangerClass::WeakensTrust,
        effect,
    }
}

const fn traffic(effect: &'static str) -> Danger {
    Danger {
        class: DangerClass::RedirectsTraffic,
        effect,
    }
}

const fn exact(name: &'static str, danger: Danger) -> Entry {
    Entry {
        name: Match::Exact(name),
        danger,
    }
}

const fn prefix(name: &'static str, danger: Danger) -> Entry {
    Entry {
        name: Match::Prefix(name),
        danger,
    }
}

const LOADER: Danger = code("make the dynamic loader load or trace code it names");
const SHELL_STARTUP: Danger = code("make the shell run a file or command at start-up");
const SHELL_EXPAND: Danger = code("make the shell run commands when it expands it");
const SHELL_LOOKUP: Danger = code("change which commands and files the shell finds");
const RUNS_PROGRAM: Danger = code("make the program run the command it names");
const GIT_REPO: Danger = code("point git at another repository's config and hooks");
const GIT_CMD: Danger = code("make git run the program it names");
const CONFIG_DIR: Danger = code("point programs at configuration that runs commands");
const INTERP_OPTIONS: Danger = code("pass the interpreter options that load code");
const INTERP_PATH: Danger = code("make the interpreter load modules from where it names");
const LIB_DATA: Danger = code("make the C library load modules or parse files it names");
const TLS_TRUST: Danger = trust("change which certificates TLS trusts");
const TLS_OFF: Danger = trust("turn TLS certificate verification off");
const TLS_KEYS: Danger = trust("write the TLS session keys to the file it names");
const PROXY: Danger = traffic("send the program's traffic through the proxy it names");

/// The list. Sources are the ENVIRONMENT sections of the manual pages
/// named, as shipped in Debian 12.
const ENTRIES: &[Entry] = &[
    // ld.so(8) ENVIRONMENT: LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT,
    // LD_BIND_NOW, LD_DEBUG_OUTPUT, LD_PROFILE_OUTPUT, ...
    prefix("LD_", LOADER),
    // dyld(1) (macOS): DYLD_INSERT_LIBRARIES, DYLD_LIBRARY_PATH, ...
    prefix("DYLD_", LOADER),
    // glibc: iconv_open(3) loads gconv modules from GCONV_PATH;
    // GLIBC_TUNABLES (tunables(3), CVE-2023-4911); mallopt(3) MALLOC_*
    // (MALLOC_TRACE writes a file, mtrace(3)); catopen(3) NLSPATH;
    // locale(7) LOCPATH; getconf(1) GETCONF_DIR.
    exact("GCONV_PATH", LIB_DATA),
    prefix("GLIBC_TUNABLES", LIB_DATA),
    prefix("MALLOC_", LIB_DATA),
    exact("NLSPATH", LIB_DATA),
    exact("LOCPATH", LIB_DATA),
    exact("GETCONF_DIR", LIB_DATA),
    // bash(1) INVOCATION and Shell Variables: BASH_ENV, ENV (sh mode and
    // dash(1)), SHELLOPTS, BASHOPTS, BASH_XTRACEFD, BASH_LOADABLES_PATH
    // (enable -f), PROMPT_COMMAND, PS0, PS1, PS2, PS4 (promptvars), IFS,
    // CDPATH, GLOBIGNORE, EXECIGNORE, HOME (~ and the start-up files),
    // SHELL; readline(3) INPUTRC. (Exported functions, BASH_FUNC_x%%, are
    // not valid names and never reach here.)
    exact("BASH_ENV", SHELL_STARTUP),
    exact("ENV", SHELL_STARTUP),
    exact("SHELLOPTS", SHELL_STARTUP),
    exact("BASHOPTS", SHELL_STARTUP),
    exact("BASH_XTRACEFD", SHELL_STARTUP),
    exact("BASH_LOADABLES_PATH", SHELL_LOOKUP),
    exact("PROMPT_COMMAND", SHELL_EXPAND),
    exact("PS0", SHELL_EXPAND),
    exact("PS1", SHELL_EXPAND),
    exact("PS2", SHELL_EXPAND),
    exact("PS4", SHELL_EXPAND),
    exact("IFS", SHELL_EXPAND),
    exact("CDPATH", SHELL_LOOKUP),
    exact("GLOBIGNORE", SHELL_LOOKUP),
    exact("EXECIGNORE", SHELL_LOOKUP),
    exact("HOME", SHELL_STARTUP),
    exact("SHELL", RUNS_PROGRAM),
    exact("INPUTRC", SHELL_STARTUP),
    // Every program that runs commands by name: execvp(3) PATH.
    exact("PATH", SHELL_LOOKUP),
    // zsh(1) STARTUP/SHUTDOWN FILES: ZDOTDIR; zshparam(1): FPATH (autoload),
    // MODULE_PATH (zmodload), PROMPT, RPROMPT (PROMPT_SUBST).
    exact("ZDOTDIR", SHELL_STARTUP),
    exact("FPATH", SHELL_LOOKUP),
    exact("MODULE_PATH", SHELL_LOOKUP),
    exact("PROMPT", SHELL_EXPAND),
    exact("RPROMPT", SHELL_EXPAND),
    // terminfo(5) and ncurses(3X) ENVIRONMENT: compiled terminal
    // descriptions parsed by every curses program.
    exact("TERMINFO", LIB_DATA),
    exact("TERMINFO_DIRS", LIB_DATA),
    exact("TERMCAP", LIB_DATA),
    // git(1) ENVIRONMENT VARIABLES: the repository (its config, hence
    // hooks, aliases, filters), the programs git runs, its templates.
    exact("GIT_DIR", GIT_REPO),
    exact("GIT_WORK_TREE", GIT_REPO),
    exact("GIT_COMMON_DIR", GIT_REPO),
    exact("GIT_TEMPLATE_DIR", GIT_REPO),
    prefix("GIT_CONFIG", GIT_REPO),
    exact("GIT_EXEC_PATH", GIT_CMD),
    exact("GIT_EDITOR", GIT_CMD),
    exact("GIT_SEQUENCE_EDITOR", GIT_CMD),
    exact("GIT_PAGER", GIT_CMD),
    exact("GIT_EXTERNAL_DIFF", GIT_CMD),
    exact("GIT_SSH", GIT_CMD),
    exact("GIT_SSH_COMMAND", GIT_CMD),
    exact("GIT_ASKPASS", GIT_CMD),
    // git-config(1) core.gitProxy: GIT_PROXY_COMMAND; git(1)
    // GIT_ALLOW_PROTOCOL and GIT_PROTOCOL_FROM_USER let ext:: run commands.
    exact("GIT_PROXY_COMMAND", GIT_CMD),
    exact("GIT_ALLOW_PROTOCOL", GIT_CMD),
    exact("GIT_PROTOCOL_FROM_USER", GIT_CMD),
    // git-config(1) http.sslVerify, http.sslCAInfo, http.sslCAPath.
    exact("GIT_SSL_NO_VERIFY", TLS_OFF),
    exact("GIT_SSL_CAINFO", TLS_TRUST),
    exact("GIT_SSL_CAPATH", TLS_TRUST),
    // XDG Base Directory Specification; git(1) reads
    // $XDG_CONFIG_HOME/git/config, as many programs read theirs.
    exact("XDG_CONFIG_HOME", CONFIG_DIR),
    exact("XDG_CONFIG_DIRS", CONFIG_DIR),
    // Programs started by name from many tools: environ(7) EDITOR,
    // VISUAL, PAGER, BROWSER; ssh(1) SSH_ASKPASS; sudo(8) SUDO_ASKPASS;
    // man(1) MANPAGER, MANOPT; systemctl(1) SYSTEMD_PAGER, SYSTEMD_EDITOR.
    exact("EDITOR", RUNS_PROGRAM),
    exact("VISUAL", RUNS_PROGRAM),
    exact("PAGER", RUNS_PROGRAM),
    exact("BROWSER", RUNS_PROGRAM),
    exact("SSH_ASKPASS", RUNS_PROGRAM),
    exact("SUDO_ASKPASS", RUNS_PROGRAM),
    exact("MANPAGER", RUNS_PROGRAM),
    exact("MANOPT", RUNS_PROGRAM),
    exact("SYSTEMD_PAGER", RUNS_PROGRAM),
    exact("SYSTEMD_EDITOR", RUNS_PROGRAM),
    // less(1) ENVIRONMENT: LESSOPEN and LESSCLOSE are input preprocessors,
    // LESSEDIT the editor command, LESS options (+! runs a shell command),
    // LESSKEY files bind keys to commands.
    exact("LESSOPEN", RUNS_PROGRAM),
    exact("LESSCLOSE", RUNS_PROGRAM),
    exact("LESSEDIT", RUNS_PROGRAM),
    exact("LESS", RUNS_PROGRAM),
    prefix("LESSKEY", RUNS_PROGRAM),
    // python(1) ENVIRONMENT VARIABLES: PYTHONSTARTUP, PYTHONPATH,
    // PYTHONHOME, PYTHONINSPECT, PYTHONUSERBASE (site-packages .pth files
    // run code), PYTHONPLATLIBDIR, PYTHONPYCACHEPREFIX, PYTHONBREAKPOINT
    // (calls what it names), PYTHONWARNINGS (imports the category's
    // module); PEP 493 PYTHONHTTPSVERIFY; requests REQUESTS_CA_BUNDLE.
    exact("PYTHONSTARTUP", INTERP_PATH),
    exact("PYTHONPATH", INTERP_PATH),
    exact("PYTHONHOME", INTERP_PATH),
    exact("PYTHONINSPECT", INTERP_OPTIONS),
    exact("PYTHONUSERBASE", INTERP_PATH),
    exact("PYTHONPLATLIBDIR", INTERP_PATH),
    exact("PYTHONPYCACHEPREFIX", INTERP_PATH),
    exact("PYTHONBREAKPOINT", INTERP_OPTIONS),
    exact("PYTHONWARNINGS", INTERP_OPTIONS),
    exact("PYTHONHTTPSVERIFY", TLS_OFF),
    exact("REQUESTS_CA_BUNDLE", TLS_TRUST),
    // node(1) ENVIRONMENT: NODE_OPTIONS (--require), NODE_PATH,
    // NODE_REPL_EXTERNAL_MODULE, NODE_EXTRA_CA_CERTS,
    // NODE_TLS_REJECT_UNAUTHORIZED.
    exact("NODE_OPTIONS", INTERP_OPTIONS),
    exact("NODE_PATH", INTERP_PATH),
    exact("NODE_REPL_EXTERNAL_MODULE", INTERP_PATH),
    exact("NODE_EXTRA_CA_CERTS", TLS_TRUST),
    exact("NODE_TLS_REJECT_UNAUTHORIZED", TLS_OFF),
    // perlrun(1) ENVIRONMENT: PERL5OPT, PERL5LIB, PERLLIB, PERL5DB (the
    // debugger's code), PERL5SHELL.
    exact("PERL5OPT", INTERP_OPTIONS),
    exact("PERL5LIB", INTERP_PATH),
    exact("PERLLIB", INTERP_PATH),
    exact("PERL5DB", INTERP_OPTIONS),
    exact("PERL5SHELL", RUNS_PROGRAM),
    // ruby(1) ENVIRONMENT: RUBYOPT, RUBYLIB, RUBYPATH, RUBYSHELL; gem(1)
    // GEM_HOME, GEM_PATH; bundle-config(1) BUNDLE_GEMFILE (Ruby code).
    exact("RUBYOPT", INTERP_OPTIONS),
    exact("RUBYLIB", INTERP_PATH),
    exact("RUBYPATH", INTERP_PATH),
    exact("RUBYSHELL", RUNS_PROGRAM),
    exact("GEM_HOME", INTERP_PATH),
    exact("GEM_PATH", INTERP_PATH),
    exact("BUNDLE_GEMFILE", INTERP_PATH),
    // lua(1) ENVIRONMENT: LUA_INIT (code or @file), LUA_PATH, LUA_CPATH,
    // each also with a _5_x suffix.
    prefix("LUA_INIT", INTERP_OPTIONS),
    prefix("LUA_PATH", INTERP_PATH),
    prefix("LUA_CPATH", INTERP_PATH),
    // The JVM (java(1), "Using the JDK_JAVA_OPTIONS Launcher Environment
    // Variable"; JVMTI JAVA_TOOL_OPTIONS, -javaagent): JAVA_TOOL_OPTIONS,
    // _JAVA_OPTIONS, JDK_JAVA_OPTIONS, CLASSPATH; JAVA_HOME and JAVA_OPTS
    // as launcher scripts (Gradle, Maven, Tomcat) use them.
    exact("JAVA_TOOL_OPTIONS", INTERP_OPTIONS),
    exact("_JAVA_OPTIONS", INTERP_OPTIONS),
    exact("JDK_JAVA_OPTIONS", INTERP_OPTIONS),
    exact("CLASSPATH", INTERP_PATH),
    exact("JAVA_HOME", RUNS_PROGRAM),
    exact("JAVA_OPTS", INTERP_OPTIONS),
    // openssl-env(7): OPENSSL_CONF (loads engines and providers),
    // OPENSSL_CONF_INCLUDE, OPENSSL_ENGINES, OPENSSL_MODULES, SSL_CERT_FILE,
    // SSL_CERT_DIR.
    exact("OPENSSL_CONF", LOADER),
    exact("OPENSSL_CONF_INCLUDE", LOADER),
    exact("OPENSSL_ENGINES", LOADER),
    exact("OPENSSL_MODULES", LOADER),
    exact("SSL_CERT_FILE", TLS_TRUST),
    exact("SSL_CERT_DIR", TLS_TRUST),
    // curl(1) ENVIRONMENT and FILES: CURL_HOME (.curlrc can write any
    // file), CURL_CA_BUNDLE, SSLKEYLOGFILE (also NSS, BoringSSL, Firefox),
    // the proxies (lower case is what curl reads).
    exact("CURL_HOME", CONFIG_DIR),
    exact("CURL_CA_BUNDLE", TLS_TRUST),
    exact("SSLKEYLOGFILE", TLS_KEYS),
    exact("HTTP_PROXY", PROXY),
    exact("HTTPS_PROXY", PROXY),
    exact("ALL_PROXY", PROXY),
    exact("FTP_PROXY", PROXY),
    exact("NO_PROXY", PROXY),
    // docker(1) ENVIRONMENT VARIABLES: DOCKER_CONFIG (its credential
    // helpers are programs), DOCKER_HOST (the daemon it talks to).
    exact("DOCKER_CONFIG", CONFIG_DIR),
    // Kubernetes "client-go credential plugins": a kubeconfig's
    // users[].user.exec runs a program; AWS CLI "Sourcing credentials with
    // an external process": credential_process in the config file.
    exact("KUBECONFIG", CONFIG_DIR),
    exact("AWS_CONFIG_FILE", CONFIG_DIR),
    exact(
        "DOCKER_HOST",
        traffic("send the program's requests to the daemon it names"),
    ),
    // hostname(7) and resolv.conf(5): HOSTALIASES, LOCALDOMAIN,
    // RES_OPTIONS change how names resolve.
    exact(
        "HOSTALIASES",
        traffic("change where the host names the program looks up lead"),
    ),
    exact(
        "LOCALDOMAIN",
        traffic("change where the host names the program looks up lead"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(name_danger("LD_PRELOAD"), Some(LOADER));
        assert_eq!(name_danger("ld_audit"), Some(LOADER));
        assert_eq!(name_danger("GIT_CONFIG_GLOBAL"), Some(GIT_REPO));
        assert_eq!(name_danger("https_proxy"), Some(PROXY));
        assert_eq!(name_danger("GIT_SSL_NO_VERIFY"), Some(TLS_OFF));
        assert_eq!(name_danger("STRIPE_KEY"), None);
        assert_eq!(name_danger("LESSER"), None);
        assert_eq!(name_danger("LESSKEYIN"), name_danger("LESSKEY"));
        assert!(DangerClass::RunsCode.refused());
        assert!(DangerClass::WeakensTrust.refused());
        assert!(!DangerClass::RedirectsTraffic.refused());
    }

    /// Each entry is reachable: no earlier prefix hides it.
    #[test]
    fn no_entry_shadows_another() {
        for (i, entry) in ENTRIES.iter().enumerate() {
            let name = match entry.name {
                Match::Exact(n) | Match::Prefix(n) => n,
            };
            let first = ENTRIES
                .iter()
                .position(|e| match e.name {
                    Match::Exact(n) => n == name,
                    Match::Prefix(p) => name.starts_with(p),
                })
                .unwrap();
            assert_eq!(first, i, "{name} is hidden by an earlier entry");
        }
    }
}

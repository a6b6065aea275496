//! Names that run code or weaken trust: every entry of the list is refused
//! by each way a name gets in (`add`, `import`, `rename`, `exec --env`),
//! and names that only redirect traffic are accepted and named at exec.

use vault::model::{danger_entries, name_danger, DangerClass, Match};

use crate::exec::{ran, refused, RunExt};
use crate::support::Env;

const HINT: &str = "pass --allow-dangerous-name if you really mean it";

/// One name for each entry of the list (a prefix's name starts with it),
/// as the programs' documentation spells it.
const REFUSED: &[&str] = &[
    "LD_PRELOAD",
    "DYLD_INSERT_LIBRARIES",
    "GCONV_PATH",
    "GLIBC_TUNABLES",
    "MALLOC_CHECK_",
    "NLSPATH",
    "LOCPATH",
    "GETCONF_DIR",
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "BASH_XTRACEFD",
    "BASH_LOADABLES_PATH",
    "PROMPT_COMMAND",
    "PS0",
    "PS1",
    "PS2",
    "PS4",
    "IFS",
    "CDPATH",
    "GLOBIGNORE",
    "EXECIGNORE",
    "HOME",
    "SHELL",
    "INPUTRC",
    "PATH",
    "ZDOTDIR",
    "FPATH",
    "MODULE_PATH",
    "PROMPT",
    "RPROMPT",
    "TERMINFO",
    "TERMINFO_DIRS",
    "TERMCAP",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_TEMPLATE_DIR",
    "GIT_CONFIG_GLOBAL",
    "GIT_EXEC_PATH",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_PAGER",
    "GIT_EXTERNAL_DIFF",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_PROXY_COMMAND",
    "GIT_ALLOW_PROTOCOL",
    "GIT_PROTOCOL_FROM_USER",
    "GIT_SSL_NO_VERIFY",
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "XDG_CONFIG_HOME",
    "XDG_CONFIG_DIRS",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "BROWSER",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "MANPAGER",
    "MANOPT",
    "SYSTEMD_PAGER",
    "SYSTEMD_EDITOR",
    "LESSOPEN",
    "LESSCLOSE",
    "LESSEDIT",
    "LESS",
    "LESSKEYIN",
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONINSPECT",
    "PYTHONUSERBASE",
    "PYTHONPLATLIBDIR",
    "PYTHONPYCACHEPREFIX",
    "PYTHONBREAKPOINT",
    "PYTHONWARNINGS",
    "PYTHONHTTPSVERIFY",
    "REQUESTS_CA_BUNDLE",
    "NODE_OPTIONS",
    "NODE_PATH",
    "NODE_REPL_EXTERNAL_MODULE",
    "NODE_EXTRA_CA_CERTS",
    "NODE_TLS_REJECT_UNAUTHORIZED",
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "PERL5DB",
    "PERL5SHELL",
    "RUBYOPT",
    "RUBYLIB",
    "RUBYPATH",
    "RUBYSHELL",
    "GEM_HOME",
    "GEM_PATH",
    "BUNDLE_GEMFILE",
    "LUA_INIT_5_4",
    "LUA_PATH",
    "LUA_CPATH",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "CLASSPATH",
    "JAVA_HOME",
    "JAVA_OPTS",
    "OPENSSL_CONF",
    "OPENSSL_CONF_INCLUDE",
    "OPENSSL_ENGINES",
    "OPENSSL_MODULES",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CURL_HOME",
    "CURL_CA_BUNDLE",
    "SSLKEYLOGFILE",
    "DOCKER_CONFIG",
    "KUBECONFIG",
    "AWS_CONFIG_FILE",
];

/// Names accepted everywhere, whose effect exec names when it injects them.
const REDIRECTING: &[&str] = &[
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "FTP_PROXY",
    "NO_PROXY",
    "DOCKER_HOST",
    "HOSTALIASES",
    "LOCALDOMAIN",
];

fn matches(entry: Match, name: &str) -> bool {
    match entry {
        Match::Exact(n) => n == name,
        Match::Prefix(p) => name.starts_with(p),
    }
}

/// Each entry of the list has a name in one of the tables above, in the
/// table of its class, so an entry cannot be added without its test.
#[test]
fn every_entry_is_tested() {
    for entry in danger_entries() {
        let table = match entry.danger.class.refused() {
            true => REFUSED,
            false => REDIRECTING,
        };
        assert!(
            table.iter().any(|n| matches(entry.name, n)),
            "{:?} has no test name in its class's table",
            entry.name
        );
    }
    assert_eq!(REFUSED.len() + REDIRECTING.len(), danger_entries().len());
}

/// The effect the error names for `name`.
fn effect(name: &str) -> &'static str {
    name_danger(name).expect("a dangerous name").effect
}

#[test]
fn every_refused_name_is_refused_by_add_import_rename_and_exec_env() {
    let env = Env::init();
    env.add("API_KEY", "sk_live_4f9a8b7c");
    let before = env.dump();
    for name in REFUSED.iter().copied().chain(["ld_preload", "Git_Editor"]) {
        let problem = format!("it lets a value {}", effect(name));
        env.vault(&["add", name])
            .passphrase()
            .stdin("value")
            .run()
            .fails(
                2,
                &format!("invalid secret name {name:?}: {problem}"),
                Some(HINT),
            );

        let file = env.path().join("dangerous.env");
        std::fs::write(&file, format!("GOOD=1\n{name}=value\n")).unwrap();
        env.vault(&["import"]).arg(&file).passphrase().run().fails(
            2,
            &format!(
                "invalid secret name {name:?} on line 2 of {}: {problem}",
                file.display()
            ),
            Some(HINT),
        );

        env.vault(&["rename", "API_KEY", name])
            .passphrase()
            .run()
            .fails(
                2,
                &format!("invalid secret name {name:?}: {problem}"),
                Some(HINT),
            );

        let out = env
            .vault(&["exec", "--env"])
            .arg(format!("{name}=API_KEY"))
            .args_of(&["--", "touch", "ran"])
            .passphrase()
            .run();
        refused(out, &format!("invalid --env target {name:?}: {problem}"));
        assert!(!ran(&env), "exec ran the program with {name}");
        assert_eq!(env.dump(), before, "refusing {name} changed the vault");
    }
}

#[test]
fn a_refused_name_says_what_it_does() {
    let env = Env::init();
    env.refuses(
        env.vault(&["add", "GIT_EXTERNAL_DIFF"])
            .passphrase()
            .stdin("/tmp/x"),
        2,
        "invalid secret name \"GIT_EXTERNAL_DIFF\": it lets a value make git run the program it names",
        Some(HINT),
    );
    env.refuses(
        env.vault(&["add", "SSL_CERT_FILE"])
            .passphrase()
            .stdin("/tmp/ca.pem"),
        2,
        "invalid secret name \"SSL_CERT_FILE\": it lets a value change which certificates TLS trusts",
        Some(HINT),
    );
    assert_eq!(
        name_danger("SSLKEYLOGFILE").map(|d| d.class),
        Some(DangerClass::WeakensTrust)
    );
}

#[test]
fn a_refused_name_is_accepted_when_allowed_and_checked_again_at_exec() {
    let env = Env::init();
    env.vault(&["add", "GIT_PAGER", "--allow-dangerous-name"])
        .passphrase()
        .stdin("cat")
        .run()
        .success()
        .stdout_is("added GIT_PAGER\n");
    // exec checks the stored name again with the same function: the
    // consumer accepts it for its own run.
    let out = env
        .vault(&["exec", "--mask", "never", "--", "touch", "ran"])
        .passphrase()
        .run();
    refused(
        out,
        "refusing to set GIT_PAGER: a value there can run code inside the program",
    );
    assert!(!ran(&env));
    env.vault(&[
        "exec",
        "--mask",
        "never",
        "--allow-dangerous-name",
        "GIT_PAGER",
    ])
    .args_of(&["--", "printenv", "GIT_PAGER"])
    .passphrase()
    .run()
    .success()
    .stdout_is("cat\n");
}

#[test]
fn a_redirecting_name_is_accepted_and_named_at_exec() {
    let env = Env::init();
    let proxy = "http://user:pa55word@proxy.example:3128";
    for name in REDIRECTING {
        assert_eq!(
            name_danger(name).map(|d| d.class),
            Some(DangerClass::RedirectsTraffic)
        );
        env.vault(&["add", name])
            .passphrase()
            .stdin(proxy)
            .run()
            .success()
            .stdout_is(&format!("added {name}\n"))
            .stderr_is("");
    }
    env.vault(&["exec", "--mask", "never", "--only", "HTTPS_PROXY", "--"])
        .args_of(&["printenv", "HTTPS_PROXY"])
        .passphrase()
        .run()
        .success()
        .stdout_is(&format!("{proxy}\n"))
        .stderr_is(
            "vault: injecting HTTPS_PROXY, which may send the program's traffic through the proxy it names\n",
        );
    env.vault(&["exec", "--mask", "never", "--only", "NO_PROXY"])
        .args_of(&["--env", "https_proxy=HTTPS_PROXY", "--explain"])
        .passphrase()
        .run()
        .success()
        .stdout_has(
            "https_proxy  injected, from HTTPS_PROXY, may send the program's traffic through the proxy it names\n",
        );
}

#[test]
fn a_redirecting_name_is_accepted_by_import_and_rename() {
    let env = Env::init();
    let file = env.path().join("proxy.env");
    std::fs::write(&file, "ALL_PROXY=socks5://u:p@host:1080\n").unwrap();
    env.vault(&["import"])
        .arg(&file)
        .passphrase()
        .run()
        .success()
        .stdout_has("added ALL_PROXY\n");
    env.vault(&["rename", "ALL_PROXY", "HTTPS_PROXY"])
        .passphrase()
        .run()
        .success()
        .stdout_is("renamed ALL_PROXY to HTTPS_PROXY\n");
    assert_eq!(env.value_of("HTTPS_PROXY"), "socks5://u:p@host:1080");
}

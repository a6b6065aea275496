//! A throwaway kernel session keyring for one test (`keyctl session`),
//! so that the suite never touches the keyring of the user running it.

use std::ffi::OsString;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::Env;

/// A named kernel session keyring that lives as long as this value: a
/// `sleep` holds it, and each vault command joins it by name.
pub struct SessionKeyring {
    pub name: String,
    holder: Child,
    pub joiner: OsString,
}

impl SessionKeyring {
    pub fn new(env: &Env) -> SessionKeyring {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "vault-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        // Other processes of the user may join a named keyring only if it
        // grants them search; `sleep` keeps it alive, 10 minutes at most.
        let holder = Command::new("keyctl")
            .args(["session", &name, "sh", "-c"])
            .arg("keyctl setperm @s 0x3f1b0000 >/dev/null && echo ready && exec sleep 600")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("keyctl (Debian package keyutils) runs");
        let mut holder = holder;
        let mut ready = String::new();
        use std::io::BufRead;
        let _ = std::io::BufReader::new(holder.stdout.take().unwrap()).read_line(&mut ready);
        assert_eq!(ready, "ready\n", "could not create the session keyring");
        // keyctl announces the keyring it joined on stderr; the joiner
        // keeps that note out of the vault command's own stderr.
        let joiner = env.path().join("join-keyring");
        std::fs::write(
            &joiner,
            "#!/bin/sh\nname=$1; shift\nexec 3>&2 2>/dev/null\n\
             exec keyctl session \"$name\" sh -c 'exec 2>&3 3>&-; exec \"$@\"' sh \"$@\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&joiner, std::fs::Permissions::from_mode(0o700)).unwrap();
        SessionKeyring {
            name,
            holder,
            joiner: joiner.into(),
        }
    }

    /// Makes every later command of `env` run inside this keyring.
    pub fn attach(&self, env: &mut Env) {
        env.wrap(vec![self.joiner.clone(), self.name.clone().into()]);
    }

    /// `keyctl ARGS` inside this keyring.
    pub fn keyctl(&self, args: &[&str]) -> String {
        let out = Command::new(&self.joiner)
            .arg(&self.name)
            .arg("keyctl")
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The ids of vault's entries in this keyring.
    pub fn vault_entries(&self) -> Vec<String> {
        self.keyctl(&["show", "@s"])
            .lines()
            .filter(|l| l.contains("user: vault-unlock:"))
            .map(|l| l.split_whitespace().next().unwrap().to_owned())
            .collect()
    }
}

impl Drop for SessionKeyring {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

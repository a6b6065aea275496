//! The text form of a vault file, for `git diff` and `git log -p` (git's
//! textconv): what changed, readable, and nothing that helps decrypt.
//!
//! It shows names, services, descriptions, versions, dates, flags,
//! identities (name, kind, creation, role, certifier, the fingerprints of
//! their keys, so that a swapped key shows in review, and how many times
//! they rekeyed), each secret's
//! generation and writer, and grants (identity, level, expiry); it leaves
//! out every sealed value, wrapped key, signature, statement (format 8),
//! exec bundle (format 9), salt
//! and KDF parameter. Lines are sorted (identities and secrets by name, grants by
//! identity) and each block opens with a `secret NAME` or `identity NAME`
//! line that `vault git setup` teaches git to show in hunk headers, so a
//! change touches as few lines as it can and says where it is. Every
//! field read from the file is escaped (`model::shown`): a newline in a
//! service would otherwise forge whole lines of the diff.

use std::collections::HashMap;

use crate::model::shown;
use crate::store::Snapshot;
use crate::time;

/// Renders `s` (a vault of format `format`) as text.
pub fn render(s: &Snapshot, format: i64) -> String {
    let names: HashMap<[u8; 16], &str> = s
        .identities
        .iter()
        .map(|i| (i.id, i.name.as_str()))
        .collect();
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!("vault {}", hex::encode(s.vault.id)));
    line(format!("  format {format}"));
    line(format!("  created {}", time::format(s.vault.created_at)));
    let default = s
        .vault
        .default_identity
        .and_then(|id| names.get(&id).copied())
        .unwrap_or("-");
    line(format!("  default identity {}", shown(default)));

    let mut identities: Vec<_> = s.identities.iter().collect();
    identities.sort_by(|a, b| a.name.cmp(&b.name));
    for i in identities {
        line(String::new());
        line(format!("identity {}", shown(&i.name)));
        line(format!("  kind {}", shown(&i.kind)));
        line(format!("  created {}", time::format(i.created_at)));
        let role = if i.cert.certifier == i.id {
            "root"
        } else if i.cert.role.is_empty() {
            "unsigned"
        } else {
            &i.cert.role
        };
        line(format!("  role {}", shown(role)));
        if let Some(until) = i.cert.agent_until {
            line(format!("  agent until {}", time::format(until)));
        }
        let certifier = <[u8; 16]>::try_from(&i.cert.certifier[..])
            .ok()
            .and_then(|c| names.get(&c).copied())
            .unwrap_or("-");
        line(format!("  certified by {}", shown(certifier)));
        line(format!(
            "  receives with {}",
            crate::vault::show_pin(&crate::vault::pin_of(&i.public_key))
        ));
        if !i.cert.sign_public.is_empty() {
            line(format!(
                "  signs with {}",
                crate::vault::show_pin(&crate::vault::pin_of(&i.cert.sign_public))
            ));
        }
        match crate::vault::handovers(i) {
            0 => {}
            1 => line("  rekeyed once".into()),
            n => line(format!("  rekeyed {n} times")),
        }
    }

    let mut secrets: Vec<_> = s.secrets.iter().collect();
    secrets.sort_by(|a, b| (&a.name, &a.environment).cmp(&(&b.name, &b.environment)));
    for secret in secrets {
        line(String::new());
        // `secret NAME (ENV)` for a secret of an environment: two blocks
        // may share a name, never a header.
        line(format!(
            "secret {}",
            crate::model::label(&shown(&secret.name), &secret.environment)
        ));
        line(format!(
            "  service {}",
            shown(secret.service.as_deref().unwrap_or("-"))
        ));
        if let Some(d) = &secret.description {
            line(format!("  description {}", shown(d)));
        }
        line(format!("  version {}", secret.version));
        line(format!("  created {}", time::format(secret.created_at)));
        line(format!("  rotated {}", time::format(secret.rotated_at)));
        line(format!("  expires {}", optional_time(secret.expires_at)));
        let writer = <[u8; 16]>::try_from(&secret.signed.signer[..])
            .ok()
            .and_then(|w| names.get(&w).copied())
            .unwrap_or("-");
        line(format!(
            "  written by {} (generation {})",
            shown(writer),
            secret.authority.generation
        ));
        if secret.needs_rotation {
            line("  needs rotation".into());
        }
        let mut grants: Vec<(&str, &str, Option<i64>)> = s
            .access
            .iter()
            .filter(|a| a.secret_id == secret.id)
            .map(|a| {
                let who = names
                    .get(&a.identity_id)
                    .copied()
                    .unwrap_or("(unknown identity)");
                (who, a.level.as_str(), a.expires_at)
            })
            .collect();
        grants.sort();
        for (who, level, expires) in grants {
            let until = expires
                .map(|e| format!(" until {}", time::format(e)))
                .unwrap_or_default();
            line(format!("  access {} {level}{until}", shown(who)));
        }
    }
    out
}

fn optional_time(t: Option<i64>) -> String {
    t.map(time::format).unwrap_or_else(|| "-".into())
}

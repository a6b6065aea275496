//! `vault trust [accept]`: the vault's root (the identity every
//! certificate chains to) and the pin this clone keeps of it; `accept`
//! pins a new root and takes the file's secrets as the newest, on purpose.

use crate::cli::TrustArgs;
use crate::error::Result;
use crate::session::Session;

pub fn run(session: &Session, args: TrustArgs) -> Result<u8> {
    let vault = session.open()?;
    let accept = args.action.as_deref() == Some("accept");
    let report = if accept {
        vault.accept_trust()?
    } else {
        vault.trust_report()?
    };
    let pinned = match &report.pinned {
        Some(pin) if *pin == report.found => "pinned by this clone".to_owned(),
        Some(pin) if report.pinned_earlier => format!(
            "this clone pinned {pin}, an earlier key of this root (it rekeyed since): the next command moves the pin forward"
        ),
        Some(pin) => format!("this clone pinned another root: {pin}"),
        None => "not pinned yet: the next command pins it".to_owned(),
    };
    super::print(&format!(
        "root: {} {}\n      {pinned}\n",
        report.root, report.found
    ))?;
    if accept {
        eprintln!("accepted the vault's root and the current state of every secret");
    }
    super::OK
}

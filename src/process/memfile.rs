//! Memory files: a secret handed to the program as a file that exists only
//! in memory and only for the program (`vault exec --file`, `--render`).
//!
//! On Linux each one is an anonymous file from `memfd_create(2)`: written
//! once, rewound, made mode 0400 (OpenSSH refuses a key others can read),
//! then sealed against writing, growing, shrinking and further sealing, so
//! neither the program nor anyone who reopens it through `/proc` can change
//! it. No byte reaches a file system and there is nothing to clean up: the
//! kernel frees it when the last descriptor closes.
//!
//! The descriptor is close-on-exec from its creation; [`MemFile::inherit`]
//! clears that flag just before vault starts the program, so the program
//! and nothing else receives it (every other descriptor of vault stays
//! close-on-exec). The supervisor closes its own copy once the program has
//! it. The program finds it at [`MemFile::path`], `/proc/self/fd/N`: an
//! open of that path is a fresh open of the same file, so it is
//! re-readable and seekable from the start whoever opens it, also in a
//! shell's children, which inherit the descriptor.
//!
//! Elsewhere than Linux there is no such facility, and vault refuses
//! rather than write a temporary file. Part of `process`: nix is used here
//! as in the rest of this module.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// One sealed memory file holding a value, close-on-exec until
/// [`MemFile::inherit`].
pub struct MemFile {
    fd: OwnedFd,
}

/// Whether memory files exist here.
pub const SUPPORTED: bool = cfg!(target_os = "linux");

impl MemFile {
    /// A sealed, read-only memory file holding `bytes`. `label` names it in
    /// `/proc/PID/fd` (`memfd:vault:LABEL`); it is a variable's name, never
    /// a value.
    #[cfg(target_os = "linux")]
    pub fn new(label: &str, bytes: &[u8]) -> io::Result<MemFile> {
        use nix::fcntl::{fcntl, FcntlArg, SealFlag};
        use nix::sys::stat::{fchmod, Mode};
        use std::io::{Seek, Write};

        let fd = low_fd_moved(create(label)?)?;
        let mut file = std::fs::File::from(fd);
        file.write_all(bytes)?;
        file.rewind()?;
        let fd = OwnedFd::from(file);
        fchmod(&fd, Mode::S_IRUSR)?;
        let seals = SealFlag::F_SEAL_WRITE
            | SealFlag::F_SEAL_GROW
            | SealFlag::F_SEAL_SHRINK
            | SealFlag::F_SEAL_SEAL;
        fcntl(&fd, FcntlArg::F_ADD_SEALS(seals))?;
        Ok(MemFile { fd })
    }

    #[cfg(not(target_os = "linux"))]
    pub fn new(_label: &str, _bytes: &[u8]) -> io::Result<MemFile> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }

    /// The path the program opens it by.
    pub fn path(&self) -> OsString {
        format!("/proc/self/fd/{}", self.fd.as_raw_fd()).into()
    }

    /// Lets the next program vault starts inherit the descriptor, at the
    /// same number. Called just before the program starts; vault starts no
    /// other process in between (it has one thread), and the supervisor
    /// closes its copy right after.
    pub(super) fn inherit(&self) -> io::Result<()> {
        use nix::fcntl::{fcntl, FcntlArg, FdFlag};
        fcntl(&self.fd, FcntlArg::F_SETFD(FdFlag::empty()))?;
        Ok(())
    }
}

/// `memfd_create` with sealing allowed and close-on-exec, and not
/// executable where the kernel knows how to say so (`MFD_NOEXEC_SEAL`,
/// Linux 6.3; with `vm.memfd_noexec = 2` it is required). An older kernel
/// answers EINVAL to the unknown flag, and is asked again without it.
#[cfg(target_os = "linux")]
fn create(label: &str) -> io::Result<OwnedFd> {
    use nix::sys::memfd::{memfd_create, MFdFlags};
    // The kernel takes names of up to 249 bytes; a variable's name may be
    // 255.
    let label: String = label.chars().take(200).collect();
    let name = std::ffi::CString::new(format!("vault:{label}"))
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let base = MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING;
    let noexec = MFdFlags::from_bits_retain(nix::libc::MFD_NOEXEC_SEAL);
    match memfd_create(name.as_c_str(), base | noexec) {
        Err(nix::errno::Errno::EINVAL) => Ok(memfd_create(name.as_c_str(), base)?),
        other => Ok(other?),
    }
}

/// Moves a descriptor numbered 0, 1 or 2 above them: those are the
/// program's standard streams, which vault sets for the program itself.
/// (std reopens a closed one on `/dev/null` at start-up, so this is only
/// a guard.) std's `try_clone` duplicates to the lowest number from 3 up.
#[cfg(target_os = "linux")]
fn low_fd_moved(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    fd.try_clone()
}

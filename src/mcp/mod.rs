//! `vault mcp`'s protocol side: a Model Context Protocol server on stdio,
//! with the four tools an agent host lists (`tools.rs`). The one home of
//! rmcp and tokio.
//!
//! The vault itself is not thread-safe (its clone state sits in a
//! `RefCell`) and every tool call is short and synchronous, so the protocol
//! runs on a thread of its own, in a single-threaded runtime, and hands
//! each call over a channel to the caller's thread, which owns the
//! [`Backend`] and answers one call at a time. The server ends when the
//! host closes stdin.
//!
//! Nothing here sees a value: the backend returns names, metadata and
//! output it has masked; what it refuses is a protocol error carrying its
//! message and hint, which never contain a value either.

mod server;
mod tools;

pub use tools::{Call, Refusal, RefusalKind, Reply, RunCall};

/// What answers the tools: the vault, unlocked as the agent.
pub trait Backend {
    fn call(&mut self, call: Call) -> Result<Reply, Refusal>;
}

/// One tool call handed from the protocol thread, and where its answer goes.
struct Job {
    call: Call,
    reply: tokio::sync::oneshot::Sender<Result<Reply, Refusal>>,
}

/// Serves `backend` on stdin and stdout until the host closes stdin.
pub fn serve(backend: &mut dyn Backend, about: String) -> std::io::Result<()> {
    let (jobs, queue) = std::sync::mpsc::channel::<Job>();
    let protocol =
        std::thread::Builder::new()
            .name("mcp".into())
            .spawn(move || -> std::io::Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(server::run(jobs, about))
            })?;
    // Ends when the protocol thread drops its sender: the host went away.
    for job in queue {
        let answer = backend.call(job.call);
        // The host may have cancelled the call meanwhile; nobody waits.
        let _ = job.reply.send(answer);
    }
    protocol
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("the protocol thread panicked")))
}

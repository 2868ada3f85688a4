//! How many connections the server can afford: the file-descriptor limit (RLIMIT_NOFILE) caps how
//! many sockets a process may hold, so the client and handshake limits are kept below it, with
//! room to spare for everything else the process opens.

use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Descriptors kept free for everything that is not a client: stdio, the runtime's own, the
/// listening socket, the reserve descriptor, certificate and key-log files, capture sockets.
pub const FD_HEADROOM: usize = 64;

/// Raises the soft limit on open files to the hard limit (the most an unprivileged process may
/// ask for) and returns the soft limit now in force.
pub fn raise_fd_limit() -> std::io::Result<u64> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(std::io::Error::from)?;
    if soft < hard {
        match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => {
                tracing::debug!("raised the open-file limit from {soft} to {hard}");
                return Ok(hard);
            }
            Err(e) => tracing::debug!("cannot raise the open-file limit from {soft}: {e}"),
        }
    }
    Ok(soft)
}

/// The soft limit on open files, or `None` if it cannot be read or is unlimited.
pub fn fd_limit() -> Option<u64> {
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, _)) if soft != nix::libc::RLIM_INFINITY => Some(soft),
        _ => None,
    }
}

/// How many connections the server serves at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Clients in the chat (after their handshake).
    pub clients: usize,
    /// Connections still in their TLS handshake (or refusal), all sources together.
    pub handshakes: usize,
    /// Connections in their handshake from one source address.
    pub handshakes_per_addr: usize,
    /// Clients in the chat from one source address: half the clients, so that one address can
    /// never take every place (all of a machine's own clients come from 127.0.0.1).
    pub clients_per_addr: usize,
}

impl Limits {
    /// The limits asked for, lowered so that clients plus handshakes fit under `fd_limit` with
    /// [`FD_HEADROOM`] descriptors to spare. Each limit is at least 1.
    pub fn fitting(
        clients: usize,
        handshakes: usize,
        per_addr: usize,
        fd_limit: Option<u64>,
    ) -> Limits {
        let (clients, handshakes) = match fd_limit {
            None => (clients, handshakes),
            Some(limit) => {
                let budget = usize::try_from(limit)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(FD_HEADROOM);
                let handshakes = handshakes.min(budget / 4);
                (clients.min(budget.saturating_sub(handshakes)), handshakes)
            }
        };
        let handshakes = handshakes.max(1);
        let clients = clients.max(1);
        Limits {
            clients,
            handshakes,
            handshakes_per_addr: per_addr.clamp(1, handshakes),
            clients_per_addr: (clients / 2).max(1),
        }
    }
}

/// True for the errors that mean "no file descriptor left" (EMFILE for the process, ENFILE for
/// the whole system).
pub fn out_of_fds(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(nix::libc::EMFILE | nix::libc::ENFILE)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_fit_under_the_fd_limit() {
        let l = Limits::fitting(1024, 512, 32, Some(256));
        assert!(l.clients + l.handshakes + FD_HEADROOM <= 256, "{l:?}");
        assert!(l.clients >= 100, "{l:?}");
        assert_eq!(
            Limits::fitting(1024, 512, 32, Some(1 << 20)),
            Limits {
                clients: 1024,
                handshakes: 512,
                handshakes_per_addr: 32,
                clients_per_addr: 512,
            }
        );
        assert_eq!(Limits::fitting(1024, 512, 32, None).clients, 1024);
        let tiny = Limits::fitting(1024, 512, 32, Some(10));
        assert_eq!((tiny.clients, tiny.handshakes), (1, 1));
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let now = raise_fd_limit().expect("getrlimit");
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
        assert_eq!(now, soft);
        assert_eq!(soft, hard);
    }
}

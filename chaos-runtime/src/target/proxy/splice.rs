//! Linux's `splice(2)` for the direct path: bulk data moves from one socket to the other
//! through a pipe, inside the kernel, without being copied into the proxy and out again.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// How much one splice moves at most (and what the pipe is asked to hold).
const MOVE: usize = 1 << 20;

/// A pipe between two sockets, and how many bytes it holds.
pub(super) struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    held: usize,
}

impl Pipe {
    /// A non-blocking pipe, as large as the system lets it be up to 1 MiB.
    pub(super) fn new() -> io::Result<Pipe> {
        let mut fds = [0; 2];
        // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 succeeded: both descriptors are open and owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // A larger pipe moves more per call; the default (64 KiB) still works.
        // SAFETY: F_SETPIPE_SZ on a pipe descriptor we own.
        unsafe { libc::fcntl(write.as_raw_fd(), libc::F_SETPIPE_SZ, MOVE as libc::c_int) };
        Ok(Pipe {
            read,
            write,
            held: 0,
        })
    }

    /// Whether the pipe holds data not yet written on.
    pub(super) fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// Moves what `src` has into the pipe: `Ok(0)` at the end of the stream, `WouldBlock` when
    /// `src` has nothing now.
    pub(super) fn fill(&mut self, src: &TcpStream) -> io::Result<usize> {
        let n = src.try_io(Interest::READABLE, || {
            splice(src.as_raw_fd(), self.write.as_raw_fd(), MOVE)
        })?;
        self.held += n;
        Ok(n)
    }

    /// Moves what the pipe holds into `dst`, waiting until `dst` takes it all.
    pub(super) async fn drain(&mut self, dst: &TcpStream) -> io::Result<()> {
        while self.held > 0 {
            dst.writable().await?;
            match dst.try_io(Interest::WRITABLE, || {
                splice(self.read.as_raw_fd(), dst.as_raw_fd(), self.held)
            }) {
                Ok(n) => self.held -= n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// One `splice(2)` call, non-blocking.
fn splice(from: libc::c_int, to: libc::c_int, len: usize) -> io::Result<usize> {
    // SAFETY: both descriptors are open for the duration of the call; null offsets mean the
    // descriptors' own positions (required for sockets and pipes).
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

//! The floor for figure 1: the least a user-space TCP proxy costs on this machine. Two
//! threads per connection move the bytes with blocking `splice(2)` through a pipe: no
//! runtime, no readiness polling, no copy into user space, no toxics. What it loses against
//! a direct connection is the second TCP connection's work in the kernel, which every proxy
//! pays; our proxy measured against it shows what our own machinery costs.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Starts the floor proxy to `upstream` on a free loopback port; it runs until the process
/// ends.
pub fn start(upstream: SocketAddr) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(upstream) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            for (src, dst) in [(&client, &server), (&server, &client)] {
                let (Ok(src), Ok(dst)) = (src.try_clone(), dst.try_clone()) else {
                    continue;
                };
                std::thread::spawn(move || {
                    let _ = pump(&src, &dst);
                    // Unblocks the other direction's thread too.
                    let _ = src.shutdown(Shutdown::Both);
                    let _ = dst.shutdown(Shutdown::Both);
                });
            }
        }
    });
    Ok(addr)
}

/// Moves `src` to `dst` until the end of the stream or an error.
fn pump(src: &TcpStream, dst: &TcpStream) -> io::Result<()> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: both descriptors are open and owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    loop {
        let n = splice(src.as_raw_fd(), write.as_raw_fd(), 1 << 16)?;
        if n == 0 {
            return Ok(());
        }
        let mut left = n;
        while left > 0 {
            match splice(read.as_raw_fd(), dst.as_raw_fd(), left)? {
                0 => return Ok(()),
                m => left -= m,
            }
        }
    }
}

fn splice(from: libc::c_int, to: libc::c_int, len: usize) -> io::Result<usize> {
    // SAFETY: both descriptors are open for the duration of the call; null offsets are
    // required for sockets and pipes.
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

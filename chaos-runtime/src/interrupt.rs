//! Interruption of runs by signals (Ctrl-C, SIGTERM) or by hand.

use std::sync::OnceLock;
use tokio::sync::watch;

/// A flag a run watches: once raised, the run stops where it is, runs its rollbacks and ends
/// with outcome `interrupted`.
///
/// ```
/// use chaos_runtime::interrupt::Interrupt;
/// let (trigger, interrupt) = Interrupt::manual();
/// assert!(!interrupt.is_raised());
/// trigger.raise();
/// assert!(interrupt.is_raised());
/// ```
#[derive(Clone, Debug)]
pub struct Interrupt {
    rx: watch::Receiver<bool>,
}

/// Raises an [`Interrupt`] made by [`Interrupt::manual`].
#[derive(Clone, Debug)]
pub struct Trigger {
    tx: watch::Sender<bool>,
}

impl Trigger {
    /// Raises the flag.
    pub fn raise(&self) {
        self.tx.send_replace(true);
    }
}

impl Interrupt {
    /// A flag raised by hand, through the returned [`Trigger`].
    pub fn manual() -> (Trigger, Interrupt) {
        let (tx, rx) = watch::channel(false);
        (Trigger { tx }, Interrupt { rx })
    }

    /// The process-wide flag raised by SIGINT or SIGTERM. The first call starts a small thread
    /// that listens for them; from then on the signals no longer kill the process, they
    /// interrupt the runs watching this flag (which run their rollbacks), and a third signal
    /// exits the process at once.
    pub fn on_signals() -> Interrupt {
        static FLAG: OnceLock<watch::Receiver<bool>> = OnceLock::new();
        let rx = FLAG.get_or_init(|| {
            let (tx, rx) = watch::channel(false);
            let spawned = std::thread::Builder::new()
                .name("chaos-signals".into())
                .spawn(move || listen(tx));
            if let Err(e) = spawned {
                tracing::warn!("could not start the signal listener: {e}");
            }
            rx
        });
        Interrupt { rx: rx.clone() }
    }

    /// Whether the flag is raised.
    pub fn is_raised(&self) -> bool {
        *self.rx.borrow()
    }

    /// Completes once the flag is raised.
    pub async fn raised(&mut self) {
        if self.rx.wait_for(|v| *v).await.is_err() {
            // The sender is gone: the flag can never be raised.
            std::future::pending::<()>().await
        }
    }
}

fn listen(tx: watch::Sender<bool>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::warn!("could not start the signal listener: {e}");
            return;
        }
    };
    rt.block_on(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                tracing::warn!("could not listen for SIGINT/SIGTERM");
                return;
            };
            let mut count = 0;
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                count += 1;
                tx.send_replace(true);
                if count == 1 {
                    eprintln!(
                        "chaos: interrupted; running rollbacks (signal twice more to exit at once)"
                    );
                } else if count >= 3 {
                    std::process::exit(130);
                }
            }
        }
        #[cfg(not(unix))]
        {
            let mut count = 0;
            while tokio::signal::ctrl_c().await.is_ok() {
                count += 1;
                tx.send_replace(true);
                if count >= 3 {
                    std::process::exit(130);
                }
            }
        }
    });
}

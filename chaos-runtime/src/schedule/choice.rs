//! [`RunWindow`]: which window an experiment keeps to — the settings' default, none, or its
//! own.

use super::{Window, WindowError};
use std::str::FromStr;

/// Which run window an experiment keeps to.
///
/// Written as the experiment's `window = "..."`: a [`Window`] text, or `"always"` for an
/// experiment that may run at any time whatever `[schedule] window` says. Without the key an
/// experiment keeps to the settings' default (and runs at any time when there is none).
///
/// ```
/// use chaos_runtime::schedule::{RunWindow, Window};
/// let paris: Window = "Mon-Fri 09:00-15:00 Europe/Paris".parse()?;
/// let own: RunWindow = "Sat 10:00-12:00 UTC".parse()?;
/// assert_eq!(own.resolve(Some(&paris)).map(|w| w.to_string()), Some("Sat 10:00-12:00 UTC".into()));
/// assert_eq!(RunWindow::Default.resolve(Some(&paris)), Some(&paris));
/// assert_eq!("always".parse::<RunWindow>()?.resolve(Some(&paris)), None);
/// # Ok::<(), chaos_runtime::schedule::WindowError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub enum RunWindow {
    /// The settings' `[schedule] window`, when there is one.
    #[default]
    Default,
    /// Any time (`window = "always"`).
    Always,
    /// Its own window.
    Own(Window),
}

impl RunWindow {
    /// The window that applies, given the settings' default.
    pub fn resolve<'a>(&'a self, default: Option<&'a Window>) -> Option<&'a Window> {
        match self {
            RunWindow::Default => default,
            RunWindow::Always => None,
            RunWindow::Own(w) => Some(w),
        }
    }

    /// How the experiment's key reads (`None` for the default).
    pub fn text(&self) -> Option<String> {
        match self {
            RunWindow::Default => None,
            RunWindow::Always => Some("always".to_owned()),
            RunWindow::Own(w) => Some(w.to_string()),
        }
    }
}

impl FromStr for RunWindow {
    type Err = WindowError;

    fn from_str(text: &str) -> Result<RunWindow, WindowError> {
        if text.trim().eq_ignore_ascii_case("always") {
            return Ok(RunWindow::Always);
        }
        text.parse().map(RunWindow::Own)
    }
}

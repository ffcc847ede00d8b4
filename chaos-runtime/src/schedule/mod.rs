//! When experiments may run: run windows (days, hours, an IANA time zone, holidays), daylight
//! saving handled by jiff with its time zone database bundled, so that a window reads the same
//! on every machine; which window an experiment keeps to ([`RunWindow`]).

mod choice;
#[cfg(test)]
mod tests;
mod window;

pub use choice::RunWindow;
pub use window::{Check, Window, WindowError};

//! When experiments may run: run windows (days, hours, an IANA time zone, holidays), daylight
//! saving handled by jiff with its time zone database bundled, so that a window reads the same
//! on every machine; which window an experiment keeps to ([`RunWindow`]); a seeded planner of
//! runs inside windows ([`plan`]).

mod choice;
mod plan;
#[cfg(test)]
mod tests;
mod window;

pub use choice::RunWindow;
pub use plan::{plan, Plan, Planned, Planner, Subject};
pub use window::{Check, Window, WindowError};

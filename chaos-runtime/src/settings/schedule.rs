//! `[schedule]`: the run window experiments keep to unless they name their own, and the public
//! holidays every window is closed on.

use super::parse::{join, Node, NodeValue, Parser, Res};
use crate::schedule::Window;
use jiff::civil::Date;

pub(super) const SCHEDULE_KEYS: &[&str] = &["window", "holidays"];

/// `[schedule]`: when experiments may run.
///
/// ```
/// use chaos_runtime::settings::Settings;
/// use std::path::Path;
/// let text = "[schedule]\nwindow = \"Mon-Fri 09:00-15:00 Europe/Paris\"\nholidays = [\"2026-12-25\", \"2027-01-01\"]\n";
/// let settings = Settings::from_toml_str(text, Path::new("/repo/chaos.toml"))?;
/// let window = settings.schedule.window.as_ref().unwrap();
/// assert_eq!(window.to_string(), "Mon-Fri 09:00-15:00 Europe/Paris");
/// assert_eq!(settings.schedule.holidays.len(), 2);
/// # Ok::<(), chaos_runtime::settings::SettingsError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScheduleSettings {
    /// The window of every experiment that names none (`window = "..."`); `None`: any time.
    pub window: Option<Window>,
    /// Dates on which every window is closed (in each window's time zone).
    pub holidays: Vec<Date>,
}

impl ScheduleSettings {
    /// The window `own` resolves to (see [`crate::schedule::RunWindow::resolve`]), closed on
    /// the holidays.
    ///
    /// ```
    /// use chaos_runtime::schedule::RunWindow;
    /// use chaos_runtime::settings::ScheduleSettings;
    /// let s = ScheduleSettings { window: None, holidays: vec!["2026-12-25".parse()?] };
    /// let own: RunWindow = "daily 09:00-17:00 UTC".parse()?;
    /// let w = s.window_for(&own).unwrap();
    /// let christmas: jiff::Timestamp = "2026-12-25T10:00:00Z".parse()?;
    /// assert!(matches!(w.check(christmas), chaos_runtime::schedule::Check::Closed { .. }));
    /// assert!(s.window_for(&RunWindow::Default).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn window_for(&self, own: &crate::schedule::RunWindow) -> Option<Window> {
        own.resolve(self.window.as_ref())
            .map(|w| w.clone().holidays(self.holidays.iter().copied()))
    }
}

impl Parser<'_> {
    pub(super) fn schedule(&self, node: &Node) -> Res<ScheduleSettings> {
        let mut schedule = ScheduleSettings::default();
        for e in self.table(node, "schedule")? {
            let key = join("schedule", &e.key);
            match e.key.as_str() {
                "window" => {
                    let text = self.non_empty_string(&e.node, &key)?;
                    let window = text
                        .parse::<Window>()
                        .map_err(|w| self.err(e.node.line, &key, w.what))?;
                    schedule.window = Some(window);
                }
                "holidays" => {
                    let NodeValue::Array(items) = &e.node.value else {
                        return Err(self.expected(
                            &e.node,
                            &key,
                            "a list of dates such as [\"2026-12-25\"]",
                        ));
                    };
                    for (i, item) in items.iter().enumerate() {
                        let key = format!("{key}[{i}]");
                        let NodeValue::Str(text) = &item.value else {
                            return Err(self.expected(
                                item,
                                &key,
                                "a date in quotes, \"2026-12-25\"",
                            ));
                        };
                        let date = text.parse::<Date>().map_err(|_| {
                            self.err(
                                item.line,
                                &key,
                                format!("{text:?} is not a date (YYYY-MM-DD)"),
                            )
                        })?;
                        schedule.holidays.push(date);
                    }
                }
                _ => return Err(self.unknown_key(e, "schedule", SCHEDULE_KEYS)),
            }
        }
        Ok(schedule)
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;
    use std::path::Path;

    fn err(text: &str) -> String {
        Settings::from_toml_str(text, Path::new("chaos.toml"))
            .expect_err(text)
            .to_string()
    }

    #[test]
    fn bad_windows_and_dates_name_the_line_and_key() {
        assert_eq!(
            err("[schedule]\nwindow = \"Mon-Fri 09:00-15:00 Mars/Olympus\"\n"),
            "chaos.toml:2: schedule.window: `Mars/Olympus` is not an IANA time zone (as `Europe/Paris`, `UTC`)"
        );
        assert_eq!(
            err("[schedule]\nholidays = [\"2026-12-25\",\n  \"2026-13-01\"]\n"),
            "chaos.toml:3: schedule.holidays[1]: \"2026-13-01\" is not a date (YYYY-MM-DD)"
        );
        assert!(err("[schedule]\nwindwo = \"x\"\n").contains("valid keys: window, holidays"));
    }
}

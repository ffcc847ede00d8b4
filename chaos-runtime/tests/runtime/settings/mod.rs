//! Settings files: every key, defaults, secrets, interpolation, errors with file:line and key,
//! Chaos Toolkit's settings.yaml, `CHAOS_SETTINGS` and the environment overrides.
//! This file holds the helpers; the tests are in one module per subject.

mod errors;
mod keys;

use chaos_runtime::redact::redact;
use chaos_runtime::settings::{
    ChannelSettings, CredentialSettings, HttpChannelSettings, JournalSettings, SettingValue,
    Settings, SettingsError, SettingsErrorKind, SlackChannelSettings,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Writes `text` as `name` in a fresh temp dir and loads it.
fn load(name: &str, text: &str) -> (tempfile::TempDir, PathBuf, Result<Settings, SettingsError>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let result = Settings::load_from(&path);
    (dir, path, result)
}

fn http(channel: &ChannelSettings) -> &HttpChannelSettings {
    match channel {
        ChannelSettings::Http(h) => h,
        other => panic!("not http: {other:?}"),
    }
}

fn slack(channel: &ChannelSettings) -> &SlackChannelSettings {
    match channel {
        ChannelSettings::Slack(s) => s,
        other => panic!("not slack: {other:?}"),
    }
}

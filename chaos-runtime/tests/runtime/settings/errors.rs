//! What an invalid settings file says: the file, the line, the key and what was wrong.

use super::*;

/// Loads `text` as `name` and checks the error starts with `<path>:<line>: <key>: ` and holds
/// `fragment`.
fn expect_error(name: &str, text: &str, line: usize, key: &str, fragment: &str) {
    let (_dir, path, result) = load(name, text);
    let err = match result {
        Ok(s) => panic!("expected an error at {key}, got {s:?}"),
        Err(e) => e,
    };
    let msg = err.to_string();
    let prefix = format!("{}:{line}: {key}: ", path.display());
    assert!(
        msg.starts_with(&prefix),
        "`{msg}` does not start with `{prefix}`"
    );
    assert!(
        msg.contains(fragment),
        "`{msg}` does not contain `{fragment}`"
    );
    assert_eq!(err.line(), Some(line));
}

#[test]
fn malformed_duration_names_file_line_and_key() {
    let text = r#"[journal]
dir = "journals"

[[notifications]]
type = "http"
url = "http://127.0.0.1:9000/events"
events = ["run-started"]

[[notifications]]
type = "http"
name = "second"
url = "http://127.0.0.1:9001/events"
retries = 1
timeout = "5x"
"#;
    expect_error(
        "chaos.toml",
        text,
        14,
        "notifications[1].timeout",
        "malformed duration \"5x\": expected a duration such as \"500ms\"",
    );
    expect_error(
        "chaos.toml",
        "[journal]\nflush_timeout = -1\n",
        2,
        "journal.flush_timeout",
        "malformed duration -1",
    );
}

#[test]
fn toml_syntax_error() {
    let (_dir, path, result) = load("chaos.toml", "[journal]\ndir = \"x\"\nflush_timeout = \n");
    let err = result.unwrap_err();
    assert!(
        matches!(err.kind(), SettingsErrorKind::Syntax { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{}:3: TOML syntax error: ", path.display())),
        "{msg}"
    );
    let (_dir, path, result) = load("chaos.toml", "[journal]\ndir = \"x\"\ndir = \"y\"\n");
    let msg = result.unwrap_err().to_string();
    assert_eq!(
        msg,
        format!("{}:3: TOML syntax error: duplicate key", path.display())
    );
}

#[test]
fn unknown_section_and_keys() {
    expect_error(
        "chaos.toml",
        "[variables]\na = \"1\"\n\n[notification]\ntype = \"http\"\n",
        4,
        "notification",
        "unknown section; valid sections: variables, secrets, journal, report, schedule, notifications, credentials, targets",
    );
    expect_error(
        "chaos.toml",
        "[journal]\ndir = \"x\"\nflush = \"1s\"\n",
        3,
        "journal.flush",
        "unknown key; valid keys: dir, ledger_dir, flush_timeout",
    );
    expect_error(
        "chaos.toml",
        "[report]\njunit_file = \"x.xml\"\n",
        2,
        "report.junit_file",
        "unknown key; valid keys: junit, html, history",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"http\"\nurl = \"http://a.test/\"\n\n[[notifications]]\ntype = \"http\"\nurl = \"http://b.test/\"\nverify_ssl = false\n",
        8,
        "notifications[1].verify_ssl",
        "unknown key; valid keys: type, name, url, headers, verify_tls, forward_event_payload, timeout, retries, backoff, events",
    );
    expect_error(
        "chaos.toml",
        "[secrets]\nhook = \"https://hooks.slack.test/unknown-key\"\n\n[[notifications]]\ntype = \"slack\"\nwebhook_url = { secret = \"hook\" }\nverify_tls = true\n",
        7,
        "notifications[0].verify_tls",
        "unknown key; valid keys: type, name, webhook_url, timeout, retries, backoff, events",
    );
    expect_error(
        "chaos.toml",
        "[credentials.ops]\ntype = \"token-file\"\npath = \"t\"\nuser_env = \"U\"\n",
        4,
        "credentials.ops.user_env",
        "unknown key; valid keys: type, path",
    );
    expect_error(
        "chaos.toml",
        "[secrets]\ntoken = { environment = \"X\" }\n",
        2,
        "secrets.token.environment",
        "unknown key; valid keys: env, file",
    );
    // [targets] is free-form.
    let (_dir, _path, s) = load("chaos.toml", "[targets]\nanything = { goes = [1, 2] }\n");
    assert!(s.unwrap().targets.contains_key("anything"));
}

#[test]
fn wrong_types() {
    expect_error(
        "chaos.toml",
        "\n[journal]\ndir = 42\n",
        3,
        "journal.dir",
        "expected a string, found an integer",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"http\"\nurl = \"http://a.test/\"\nverify_tls = \"no\"\n",
        4,
        "notifications[0].verify_tls",
        "expected true or false, found a string",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"http\"\nurl = \"http://a.test/\"\nretries = -1\n",
        4,
        "notifications[0].retries",
        "-1 is out of range",
    );
    expect_error(
        "chaos.toml",
        "journal = 3\n",
        1,
        "journal",
        "expected a table, found an integer",
    );
    expect_error(
        "chaos.toml",
        "[variables]\nlist = [1, 2]\n",
        2,
        "variables.list",
        "expected a string, found an array",
    );
    expect_error(
        "chaos.toml",
        "[notifications]\ntype = \"http\"\n",
        1,
        "notifications",
        "expected an array of tables ([[notifications]])",
    );
}

#[test]
fn missing_required_keys() {
    expect_error(
        "chaos.toml",
        "[journal]\n\n[[notifications]]\ntype = \"http\"\nevents = [\"run-failed\"]\n",
        3,
        "notifications[0].url",
        "missing required key",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"slack\"\n",
        1,
        "notifications[0].webhook_url",
        "missing required key",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\nurl = \"http://a.test/\"\n",
        1,
        "notifications[0].type",
        "missing required key; valid types: http, slack",
    );
    expect_error(
        "chaos.toml",
        "[credentials.ops]\ntype = \"env-user-password\"\nuser_env = \"U\"\n",
        1,
        "credentials.ops.password_env",
        "missing required key",
    );
}

#[test]
fn bad_values() {
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"http\"\nurl = \"http://a.test/\"\nevents = [\n  \"run-started\",\n  \"run-finished\",\n]\n",
        6,
        "notifications[0].events[1]",
        "unknown event \"run-finished\"; valid events: validate-started, ",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"email\"\n",
        2,
        "notifications[0].type",
        "unknown channel type \"email\"; valid types: http, slack",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"plugin\"\n",
        2,
        "notifications[0].type",
        "Python modules",
    );
    expect_error(
        "chaos.toml",
        "[credentials.x]\ntype = \"vault\"\n",
        2,
        "credentials.x.type",
        "unknown credential type \"vault\"; valid types: env-user-password, token-file, k8s-service-account",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"http\"\nurl = \"ftp://a.test/\"\n",
        3,
        "notifications[0].url",
        "has scheme `ftp`",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"http\"\nname = \"a\"\nurl = \"http://a.test/\"\n[[notifications]]\ntype = \"http\"\nname = \"a\"\nurl = \"http://b.test/\"\n",
        7,
        "notifications[1].name",
        "duplicate channel name \"a\"",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"http\"\nurl = \"http://a.test/\"\nheaders = { \"Bad Name\" = \"x\" }\n",
        4,
        "notifications[0].headers.\"Bad Name\"",
        "not a valid HTTP header name",
    );
}

#[test]
fn secret_errors() {
    expect_error(
        "chaos.toml",
        "[secrets]\nok = \"inline-ok-value\"\napi_token = { env = \"SETTINGS_TEST_SURELY_UNSET_9f3a\" }\n",
        3,
        "secrets.api_token",
        "environment variable `SETTINGS_TEST_SURELY_UNSET_9f3a` is not set",
    );
    expect_error(
        "chaos.toml",
        "[secrets]\n\ndb = { file = \"no/such/file\" }\n",
        3,
        "secrets.db",
        "cannot read secret file `",
    );
    expect_error(
        "chaos.toml",
        "[secrets]\nboth = { env = \"A\", file = \"b\" }\n",
        2,
        "secrets.both",
        "expected exactly one of env, file",
    );
    expect_error(
        "chaos.toml",
        "[secrets]\ntoken = \"interp-error-token\"\n\n[[notifications]]\ntype = \"http\"\nurl = \"http://a.test/\"\nheaders = { Authorization = \"Bearer ${secrets.tokn}\" }\n",
        7,
        "notifications[0].headers.Authorization",
        "no secret `tokn` in [secrets]; defined: token",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"http\"\nurl = \"http://a.test/${vars.x}\"\n",
        3,
        "notifications[0].url",
        "unknown reference `${vars.x}`",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"http\"\nurl = \"http://${variables.settings_test_nope_7c1}/\"\n",
        3,
        "notifications[0].url",
        "variable `settings_test_nope_7c1` is neither in [variables] nor set in the environment",
    );
    expect_error(
        "chaos.toml",
        "[[notifications]]\ntype = \"slack\"\nwebhook_url = { secret = \"slack\" }\n",
        3,
        "notifications[0].webhook_url",
        "no secret `slack`: [secrets] defines none",
    );
}

#[test]
fn yaml_errors_name_line_and_key() {
    let text = "\
notifications:
  - type: http
    url: http://a.test/
    events:
      - run-started
      - run-finished
";
    expect_error(
        "settings.yaml",
        text,
        6,
        "notifications[0].events[1]",
        "unknown event \"run-finished\"",
    );
    let text = "\
notifications:
  - type: http
    url: http://a.test/
  - type: http
    verify_tls: false
    verfy: true
";
    expect_error(
        "settings.yaml",
        text,
        6,
        "notifications[1].verfy",
        "unknown key; valid keys: type, name, url",
    );
    expect_error(
        "settings.yaml",
        "notifications:\n  - type: http\n    verify_tls: false\n",
        2,
        "notifications[0].url",
        "missing required key",
    );
    let (_dir, path, result) = load(
        "settings.yaml",
        "notifications:\n  - type: http\n   url: x\n",
    );
    let msg = result.unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("{}:3: YAML syntax error: ", path.display())),
        "{msg}"
    );
}

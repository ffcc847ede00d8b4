//! What a valid settings file means: every key, defaults, secrets, interpolation, paths,
//! Chaos Toolkit's settings.yaml and the environment overrides.

use super::*;

#[test]
fn every_key_is_parsed() {
    std::env::set_var("SETTINGS_TEST_EVERY_API_TOKEN", "every-key-api-token-1");
    std::env::set_var(
        "SETTINGS_TEST_EVERY_SLACK",
        "https://hooks.slack.test/every-key",
    );
    std::env::set_var(
        "SETTINGS_TEST_EVERY_AUDIT_URL",
        "https://audit.test/every-key-secret-path",
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("db-password"), "every-key-db-password\n").unwrap();
    let text = r#"
[variables]
service_url = "http://127.0.0.1:8080"
port = 8080
ratio = 0.5
enabled = true

[secrets]
api_token = { env = "SETTINGS_TEST_EVERY_API_TOKEN" }
audit_url = { env = "SETTINGS_TEST_EVERY_AUDIT_URL" }
db_password = { file = "db-password" }

[journal]
dir = "target/chaos/journals"
ledger_dir = "target/chaos/ledger"
flush_timeout = "1.5s"

[[notifications]]
type = "http"
name = "audit"
url = "http://127.0.0.1:9000/events"
headers = { Authorization = "Bearer ${secrets.api_token}", X-Service = "${variables.service_url}" }
verify_tls = false
forward_event_payload = false
timeout = "500ms"
retries = 5
backoff = "1s"
events = ["run-started", "run-failed"]

[[notifications]]
type = "slack"
name = "ops-channel"
webhook_url = { env = "SETTINGS_TEST_EVERY_SLACK" }
timeout = 10
retries = 0
backoff = 0.25
events = ["run-failed", "run-deviated", "run-completed"]

[[notifications]]
type = "http"
url = { secret = "audit_url" }

[credentials.ops]
type = "env-user-password"
user_env = "OPS_USER"
password_env = "OPS_PASSWORD"

[credentials.api]
type = "token-file"
path = "/run/secrets/api-token"

[credentials.local]
type = "token-file"
path = "tokens/local"

[credentials.cluster]
type = "k8s-service-account"

[credentials.other_cluster]
type = "k8s-service-account"
token_path = "/mnt/token"

[targets.kubernetes]
context = "kind-chaos"
namespaces = ["shop", "payments"]
"#;
    let path = dir.path().join("chaos.toml");
    std::fs::write(&path, text).unwrap();
    let s = Settings::load_from(&path).unwrap();

    assert_eq!(s.path.as_deref(), Some(path.as_path()));
    assert_eq!(s.variables["service_url"], "http://127.0.0.1:8080");
    assert_eq!(s.variables["port"], "8080");
    assert_eq!(s.variables["ratio"], "0.5");
    assert_eq!(s.variables["enabled"], "true");

    assert_eq!(s.secrets["api_token"].expose(), "every-key-api-token-1");
    assert_eq!(s.secrets["db_password"].expose(), "every-key-db-password");

    assert_eq!(
        s.journal,
        JournalSettings {
            dir: Some(dir.path().join("target/chaos/journals")),
            ledger_dir: Some(dir.path().join("target/chaos/ledger")),
            flush_timeout: Duration::from_millis(1500),
        }
    );

    assert_eq!(s.notifications.len(), 3);
    let audit = http(&s.notifications[0]);
    assert_eq!(audit.name, "audit");
    assert_eq!(
        audit.url,
        SettingValue::Plain("http://127.0.0.1:9000/events".into())
    );
    assert_eq!(audit.headers.len(), 2);
    assert_eq!(audit.headers[0].0, "Authorization");
    assert_eq!(audit.headers[0].1.expose(), "Bearer every-key-api-token-1");
    assert!(audit.headers[0].1.is_secret());
    assert_eq!(audit.headers[1].0, "X-Service");
    assert_eq!(
        audit.headers[1].1,
        SettingValue::Plain("http://127.0.0.1:8080".into())
    );
    assert!(!audit.verify_tls);
    assert!(!audit.forward_event_payload);
    assert_eq!(audit.timeout, Duration::from_millis(500));
    assert_eq!(audit.retries, 5);
    assert_eq!(audit.backoff, Duration::from_secs(1));
    assert_eq!(
        audit.events.as_deref(),
        Some(&["run-started".to_owned(), "run-failed".to_owned()][..])
    );
    assert!(s.notifications[0].accepts("run-started"));
    assert!(!s.notifications[0].accepts("run-completed"));

    let ops = slack(&s.notifications[1]);
    assert_eq!(s.notifications[1].name(), "ops-channel");
    assert_eq!(
        ops.webhook_url.expose(),
        "https://hooks.slack.test/every-key"
    );
    assert_eq!(ops.timeout, Duration::from_secs(10));
    assert_eq!(ops.retries, 0);
    assert_eq!(ops.backoff, Duration::from_millis(250));
    assert_eq!(s.notifications[1].events().map(<[String]>::len), Some(3));

    let third = http(&s.notifications[2]);
    assert_eq!(third.name, "http[2]");
    assert!(third.url.is_secret());
    assert_eq!(
        third.url.expose(),
        "https://audit.test/every-key-secret-path"
    );

    assert_eq!(
        s.credentials["ops"],
        CredentialSettings::EnvUserPassword {
            user_env: "OPS_USER".into(),
            password_env: "OPS_PASSWORD".into()
        }
    );
    assert_eq!(
        s.credentials["api"],
        CredentialSettings::TokenFile {
            path: "/run/secrets/api-token".into()
        }
    );
    assert_eq!(
        s.credentials["local"],
        CredentialSettings::TokenFile {
            path: dir.path().join("tokens/local")
        }
    );
    assert_eq!(
        s.credentials["cluster"],
        CredentialSettings::KubernetesServiceAccount {
            token_path: "/var/run/secrets/kubernetes.io/serviceaccount/token".into()
        }
    );
    assert_eq!(
        s.credentials["other_cluster"],
        CredentialSettings::KubernetesServiceAccount {
            token_path: "/mnt/token".into()
        }
    );

    let k8s = s.targets["kubernetes"].as_table().unwrap();
    assert_eq!(k8s["context"].as_str(), Some("kind-chaos"));
    assert_eq!(k8s["namespaces"].as_array().map(Vec::len), Some(2));
}

#[test]
fn defaults() {
    let d = Settings::default();
    assert_eq!(d.path, None);
    assert!(d.variables.is_empty() && d.secrets.is_empty() && d.credentials.is_empty());
    assert!(d.notifications.is_empty() && d.targets.is_empty());
    assert_eq!(d.journal.dir, None);
    assert_eq!(d.journal.flush_timeout, Duration::from_secs(5));

    let (_dir, path, s) = load("chaos.toml", "# nothing here\n");
    let s = s.unwrap();
    assert_eq!(s.path.as_deref(), Some(path.as_path()));
    assert_eq!(Settings { path: None, ..s }, Settings::default());

    let text = r#"
[[notifications]]
type = "http"
url = "https://example.test/hook"

[[notifications]]
type = "slack"
webhook_url = { env = "SETTINGS_TEST_DEFAULTS_SLACK" }
"#;
    std::env::set_var(
        "SETTINGS_TEST_DEFAULTS_SLACK",
        "https://hooks.slack.test/defaults",
    );
    let (_dir, _path, s) = load("chaos.toml", text);
    let s = s.unwrap();
    let h = http(&s.notifications[0]);
    assert_eq!(h.name, "http[0]");
    assert!(h.headers.is_empty());
    assert!(h.verify_tls && h.forward_event_payload);
    assert_eq!(h.timeout, Duration::from_secs(3));
    assert_eq!(h.retries, 2);
    assert_eq!(h.backoff, Duration::from_millis(200));
    assert_eq!(h.events, None);
    assert!(s.notifications[0].accepts("activity-completed"));
    let sl = slack(&s.notifications[1]);
    assert_eq!(sl.name, "slack[1]");
    assert_eq!(
        (sl.timeout, sl.retries, sl.backoff, sl.events.clone()),
        (Duration::from_secs(3), 2, Duration::from_millis(200), None)
    );
}

#[test]
fn secrets_from_env_file_and_inline_are_redacted() {
    std::env::set_var("SETTINGS_TEST_SECRET_ENV", "secret-from-env-3141");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("run")).unwrap();
    std::fs::write(dir.path().join("run/db"), "secret-from-file-2718\r\n").unwrap();
    let abs = dir.path().join("abs-secret");
    std::fs::write(&abs, "secret-from-abs-file-1618").unwrap();
    let text = format!(
        "[secrets]\nfrom_env = {{ env = \"SETTINGS_TEST_SECRET_ENV\" }}\n\
         from_file = {{ file = \"run/db\" }}\nfrom_abs = {{ file = {:?} }}\n\
         legacy = \"secret-inline-1414\"\n",
        abs.display().to_string()
    );
    let path = dir.path().join("chaos.toml");
    std::fs::write(&path, text).unwrap();
    let s = Settings::load_from(&path).unwrap();
    assert_eq!(s.secrets["from_env"].expose(), "secret-from-env-3141");
    assert_eq!(s.secrets["from_file"].expose(), "secret-from-file-2718");
    assert_eq!(s.secrets["from_abs"].expose(), "secret-from-abs-file-1618");
    assert_eq!(s.secrets["legacy"].expose(), "secret-inline-1414");
    for value in [
        "secret-from-env-3141",
        "secret-from-file-2718",
        "secret-from-abs-file-1618",
        "secret-inline-1414",
    ] {
        assert_eq!(redact(value), "***", "{value} is not registered");
    }
    assert!(!format!("{s:?}").contains("secret-from"), "{s:?}");
}

#[test]
fn interpolation_in_headers_and_urls() {
    std::env::set_var("SETTINGS_TEST_INTERP_TOKEN", "interp-token-9876");
    std::env::set_var("settings_test_interp_region", "from-env-region");
    let text = r#"
[variables]
host = "audit.example.test"
settings_test_interp_region = "from-file-region"

[secrets]
token = { env = "SETTINGS_TEST_INTERP_TOKEN" }

[[notifications]]
type = "http"
url = "https://${variables.host}/events?token=${secrets.token}"
headers = { Authorization = "Bearer ${secrets.token}", X-Region = "${variables.settings_test_interp_region}", X-Literal = "$${not.a.reference} costs $5" }
"#;
    let (_dir, _path, s) = load("chaos.toml", text);
    let s = s.unwrap();
    let h = http(&s.notifications[0]);
    assert!(h.url.is_secret(), "a URL holding a secret is secret");
    assert_eq!(
        h.url.expose(),
        "https://audit.example.test/events?token=interp-token-9876"
    );
    let header = |name: &str| &h.headers.iter().find(|(k, _)| k == name).unwrap().1;
    assert!(header("Authorization").is_secret());
    assert_eq!(header("Authorization").expose(), "Bearer interp-token-9876");
    assert_eq!(format!("{}", header("Authorization")), "***");
    assert_eq!(redact("Bearer interp-token-9876"), "***");
    // The environment overrides the file's variable, as `cx.var` does.
    assert_eq!(
        header("X-Region"),
        &SettingValue::Plain("from-env-region".into())
    );
    assert_eq!(
        header("X-Literal"),
        &SettingValue::Plain("${not.a.reference} costs $5".into())
    );
}

#[test]
fn relative_journal_dir_is_resolved_against_the_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("config/chaos");
    std::fs::create_dir_all(&nested).unwrap();
    let path = nested.join("chaos.toml");
    std::fs::write(&path, "[journal]\ndir = \"../journals\"\n").unwrap();
    let s = Settings::load_from(&path).unwrap();
    assert_eq!(s.journal.dir, Some(nested.join("../journals")));

    std::fs::write(&path, "[journal]\ndir = \"/var/chaos\"\n").unwrap();
    let s = Settings::load_from(&path).unwrap();
    assert_eq!(s.journal.dir.as_deref(), Some(Path::new("/var/chaos")));
}

#[test]
fn find_from_stops_at_the_workspace_root() {
    let root = tempfile::tempdir().unwrap();
    let ws = root.path().join("ws");
    let member = ws.join("crates/app");
    std::fs::create_dir_all(&member).unwrap();
    std::fs::write(root.path().join("chaos.toml"), "").unwrap();
    std::fs::write(
        ws.join("Cargo.toml"),
        "[workspace]\nmembers = [\"crates/app\"]\n",
    )
    .unwrap();
    std::fs::write(member.join("Cargo.toml"), "[package]\nname = \"app\"\n").unwrap();
    assert_eq!(
        Settings::find_from(&member),
        None,
        "chaos.toml above the workspace root is not used"
    );
    std::fs::write(ws.join("chaos.toml"), "").unwrap();
    assert_eq!(Settings::find_from(&member), Some(ws.join("chaos.toml")));
    std::fs::write(member.join("chaos.toml"), "").unwrap();
    assert_eq!(
        Settings::find_from(&member),
        Some(member.join("chaos.toml"))
    );

    let lone = tempfile::tempdir().unwrap();
    let sub = lone.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(lone.path().join("chaos.toml"), "").unwrap();
    assert_eq!(
        Settings::find_from(&sub),
        None,
        "without Cargo.toml only the start directory is searched"
    );
}

#[test]
fn chaos_toolkit_settings_yaml() {
    let text = "\
auths:
  example.test:
    type: bearer
    value: xyz
notifications:
  - type: http
    url: https://audit.example.test/events
    verify_tls: false
    forward_event_payload: false
    headers:
      Authorization: Bearer abc
    events:
      - run-started
      - discovery-completed
      - run-failed
  - type: plugin
    module: chaostoolkit_slack.notifier
    events:
      - run-failed
  - {type: http, url: 'http://127.0.0.1:9/', events: [run-completed]}
controls:
  my-stuff:
    provider:
      type: python
      module: foo
";
    let (_dir, path, s) = load("settings.yaml", text);
    let s = s.unwrap();
    assert_eq!(s.path.as_deref(), Some(path.as_path()));
    assert_eq!(s.notifications.len(), 2, "the plugin is skipped");
    let first = http(&s.notifications[0]);
    assert_eq!(first.name, "http[0]");
    assert_eq!(first.url.expose(), "https://audit.example.test/events");
    assert!(!first.verify_tls && !first.forward_event_payload);
    assert_eq!(
        first.headers,
        vec![(
            "Authorization".to_owned(),
            SettingValue::Plain("Bearer abc".into())
        )]
    );
    assert_eq!(
        first.events.as_deref(),
        Some(&["run-started".to_owned(), "run-failed".to_owned()][..])
    );
    let second = http(&s.notifications[1]);
    assert_eq!(second.name, "http[2]", "names keep the entry's index");
    assert_eq!(second.url.expose(), "http://127.0.0.1:9/");

    let (_dir, _path, s) = load("settings.yml", "");
    assert!(s.unwrap().notifications.is_empty());
    let (_dir, _path, s) = load("settings.yml", "auths: {}\n");
    assert!(s.unwrap().notifications.is_empty());
}

/// The only test touching `CHAOS_SETTINGS`, `CHAOS_JOURNAL_DIR` and `CHAOS_FLUSH_TIMEOUT`
/// (the process's environment is shared by the tests' threads).
#[test]
fn chaos_settings_env_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custom-settings.toml");
    std::fs::write(
        &path,
        "[variables]\nfrom_env_file = \"yes\"\n\n[journal]\ndir = \"j\"\nflush_timeout = \"2s\"\n",
    )
    .unwrap();

    std::env::set_var("CHAOS_SETTINGS", &path);
    assert_eq!(Settings::find(), Some(path.clone()));
    let s = Settings::load().unwrap();
    assert_eq!(s.path.as_deref(), Some(path.as_path()));
    assert_eq!(s.variables["from_env_file"], "yes");
    assert_eq!(s.journal.dir, Some(dir.path().join("j")));
    assert_eq!(s.journal.flush_timeout, Duration::from_secs(2));

    std::env::set_var("CHAOS_JOURNAL_DIR", "/tmp/elsewhere");
    std::env::set_var("CHAOS_LEDGER_DIR", "/tmp/elsewhere-ledger");
    std::env::set_var("CHAOS_FLUSH_TIMEOUT", "750ms");
    let s = Settings::load().unwrap();
    assert_eq!(s.journal.dir.as_deref(), Some(Path::new("/tmp/elsewhere")));
    assert_eq!(
        s.journal.ledger_dir.as_deref(),
        Some(Path::new("/tmp/elsewhere-ledger"))
    );
    assert_eq!(s.journal.flush_timeout, Duration::from_millis(750));

    std::env::set_var("CHAOS_FLUSH_TIMEOUT", "soon");
    let err = Settings::load().unwrap_err();
    assert!(
        matches!(err.kind(), SettingsErrorKind::Env { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("CHAOS_FLUSH_TIMEOUT=`soon`: malformed duration \"soon\""),
        "{err}"
    );
    std::env::remove_var("CHAOS_FLUSH_TIMEOUT");
    std::env::remove_var("CHAOS_JOURNAL_DIR");
    std::env::remove_var("CHAOS_LEDGER_DIR");

    let yaml = dir.path().join("settings.yml");
    std::fs::write(
        &yaml,
        "notifications:\n  - type: http\n    url: http://127.0.0.1:9/\n",
    )
    .unwrap();
    std::env::set_var("CHAOS_SETTINGS", &yaml);
    assert_eq!(Settings::load().unwrap().notifications.len(), 1);

    let missing = dir.path().join("nope.toml");
    std::env::set_var("CHAOS_SETTINGS", &missing);
    let err = Settings::load().unwrap_err();
    assert!(
        matches!(err.kind(), SettingsErrorKind::NotFound { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "CHAOS_SETTINGS names `{}`, which does not exist",
            missing.display()
        )
    );

    // Without CHAOS_SETTINGS: the nearest chaos.toml up to the workspace root. The tests run
    // in chaos-runtime/, inside this repository's workspace.
    std::env::remove_var("CHAOS_SETTINGS");
    let found = Settings::find();
    let expected = Path::new(env!("CARGO_MANIFEST_DIR")).join("chaos.toml");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../chaos.toml");
    match found {
        None => {
            assert!(!expected.exists() && !workspace.exists());
            assert_eq!(
                Settings::load().unwrap(),
                Settings::default(),
                "no file: defaults"
            );
        }
        Some(p) => assert!(p == expected || p.ends_with("chaos.toml"), "{p:?}"),
    }
}

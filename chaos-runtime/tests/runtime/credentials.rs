//! Credential providers and the registry against real environment variables and real files.
//!
//! Tests run in parallel threads of one process: every test uses its own variable names, its
//! own temporary directory and its own secret values (the redactor is process-wide).

use chaos_runtime::credentials::{
    from_fn, CredentialError, CredentialErrorKind, CredentialProvider, CredentialRegistry,
    Credentials, EnvUserPassword, KubernetesServiceAccount, TokenFile, SERVICE_ACCOUNT_DIR,
};
use chaos_runtime::error::error_chain;
use chaos_runtime::redact::{self, Secret};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

// ---------------------------------------------------------------- env-user-password

#[test]
fn env_user_password_loads_both_variables() {
    std::env::set_var("CREDTEST_ENV_OK_USER", "ops-user");
    std::env::set_var("CREDTEST_ENV_OK_PASSWORD", "env-ok-pass-7c1e");
    let provider = EnvUserPassword::new("CREDTEST_ENV_OK_USER", "CREDTEST_ENV_OK_PASSWORD");
    assert_eq!(provider.kind(), "env-user-password");
    assert_eq!(provider.user_env(), "CREDTEST_ENV_OK_USER");
    assert_eq!(provider.password_env(), "CREDTEST_ENV_OK_PASSWORD");

    let creds = provider.load().unwrap();
    assert_eq!(creds.username.as_deref(), Some("ops-user"));
    assert_eq!(
        creds.password.as_ref().map(Secret::expose),
        Some("env-ok-pass-7c1e")
    );
    assert_eq!(creds.token, None);
    assert_eq!(creds.bearer(), None);
    assert_eq!(
        redact::redact("password=env-ok-pass-7c1e"),
        "password=***",
        "the password is registered with the redactor as it is loaded"
    );
    assert_eq!(
        redact::redact("ops-user"),
        "ops-user",
        "user names are not secret"
    );
}

#[test]
fn env_user_password_values_are_taken_verbatim() {
    std::env::set_var("CREDTEST_ENV_VERBATIM_USER", " spaced user ");
    std::env::set_var("CREDTEST_ENV_VERBATIM_PASSWORD", " env-verbatim-pass \n");
    let creds = EnvUserPassword::new(
        "CREDTEST_ENV_VERBATIM_USER",
        "CREDTEST_ENV_VERBATIM_PASSWORD",
    )
    .load()
    .unwrap();
    assert_eq!(creds.username.as_deref(), Some(" spaced user "));
    assert_eq!(creds.password.unwrap().expose(), " env-verbatim-pass \n");
}

#[test]
fn env_password_not_set_names_registration_provider_and_variable() {
    std::env::set_var("CREDTEST_ENV_NOPASS_USER", "ops");
    let mut registry = CredentialRegistry::new();
    registry
        .register(
            "ops",
            EnvUserPassword::new("CREDTEST_ENV_NOPASS_USER", "CREDTEST_ENV_NOPASS_PASSWORD"),
        )
        .unwrap();
    let err = registry.get("ops").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"credentials "ops" (env-user-password): environment variable CREDTEST_ENV_NOPASS_PASSWORD is not set"#
    );
    assert!(
        matches!(err.kind(), CredentialErrorKind::EnvNotSet { var } if var == "CREDTEST_ENV_NOPASS_PASSWORD")
    );
    assert_eq!(err.name(), Some("ops"));
    assert_eq!(err.provider(), Some("env-user-password"));

    // Loaded directly, the provider does not know the registered name.
    let err = EnvUserPassword::new("CREDTEST_ENV_NOPASS_USER", "CREDTEST_ENV_NOPASS_PASSWORD")
        .load()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "credentials (env-user-password): environment variable CREDTEST_ENV_NOPASS_PASSWORD is not set"
    );
    assert_eq!(err.name(), None);
}

#[test]
fn env_user_not_set_is_reported_before_the_password() {
    let err = EnvUserPassword::new("CREDTEST_ENV_NOUSER_USER", "CREDTEST_ENV_NOUSER_PASSWORD")
        .load()
        .unwrap_err()
        .named("db");
    assert_eq!(
        err.to_string(),
        r#"credentials "db" (env-user-password): environment variable CREDTEST_ENV_NOUSER_USER is not set"#
    );
}

#[test]
fn env_empty_variable_is_an_error() {
    std::env::set_var("CREDTEST_ENV_EMPTY_USER", "ops");
    std::env::set_var("CREDTEST_ENV_EMPTY_PASSWORD", "");
    let mut registry = CredentialRegistry::new();
    registry
        .register(
            "ops",
            EnvUserPassword::new("CREDTEST_ENV_EMPTY_USER", "CREDTEST_ENV_EMPTY_PASSWORD"),
        )
        .unwrap();
    let err = registry.get("ops").unwrap_err();
    assert!(
        matches!(err.kind(), CredentialErrorKind::EnvEmpty { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        r#"credentials "ops" (env-user-password): environment variable CREDTEST_ENV_EMPTY_PASSWORD is empty"#
    );
}

#[cfg(unix)]
#[test]
fn env_variable_not_unicode_is_an_error() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    std::env::set_var("CREDTEST_ENV_BYTES_USER", OsStr::from_bytes(b"op\xffs"));
    std::env::set_var("CREDTEST_ENV_BYTES_PASSWORD", "env-bytes-pass");
    let err = EnvUserPassword::new("CREDTEST_ENV_BYTES_USER", "CREDTEST_ENV_BYTES_PASSWORD")
        .load()
        .unwrap_err()
        .named("ops");
    assert!(
        matches!(err.kind(), CredentialErrorKind::EnvNotUnicode { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        r#"credentials "ops" (env-user-password): environment variable CREDTEST_ENV_BYTES_USER is not valid Unicode"#
    );
}

// ---------------------------------------------------------------- token-file

#[test]
fn token_file_loads_and_trims_trailing_whitespace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    write(&path, "token-file-ok-3b9d \r\n\t\n");
    let provider = TokenFile::new(&path);
    assert_eq!(provider.kind(), "token-file");
    assert_eq!(provider.path(), path);

    let creds = provider.load().unwrap();
    assert_eq!(
        creds.token.as_ref().map(Secret::expose),
        Some("token-file-ok-3b9d")
    );
    assert_eq!(creds.username, None);
    assert_eq!(creds.password, None);
    assert_eq!(creds.bearer().as_deref(), Some("Bearer token-file-ok-3b9d"));
    assert_eq!(redact::redact("token-file-ok-3b9d"), "***");
    assert_eq!(redact::redact(&creds.bearer().unwrap()), "Bearer ***");
    assert_eq!(
        format!("{creds:?}"),
        "Credentials { username: None, password: None, token: Some(***) }"
    );
}

#[test]
fn token_file_missing_names_registration_provider_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-token");
    let mut registry = CredentialRegistry::new();
    registry.register("api", TokenFile::new(&path)).unwrap();
    let err = registry.get("api").unwrap_err();
    let prefix = format!(
        r#"credentials "api" (token-file): could not read token file `{}`: "#,
        path.display()
    );
    assert!(err.to_string().starts_with(&prefix), "{err}");
    match err.kind() {
        CredentialErrorKind::Read {
            source, path: p, ..
        } => {
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            assert_eq!(p, &path);
        }
        other => panic!("expected a read error, got {other:?}"),
    }
    // The source is in the message once, not twice.
    assert_eq!(error_chain(&err), err.to_string());
}

#[test]
fn token_file_that_is_a_directory_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = TokenFile::new(dir.path()).load().unwrap_err();
    assert!(
        matches!(err.kind(), CredentialErrorKind::Read { .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with(&format!(
        "credentials (token-file): could not read token file `{}`: ",
        dir.path().display()
    )));
}

#[test]
fn token_file_empty_or_blank_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    for content in ["", " \n\t\r\n"] {
        write(&path, content);
        let err = TokenFile::new(&path).load().unwrap_err().named("api");
        assert!(
            matches!(err.kind(), CredentialErrorKind::EmptyFile { .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                r#"credentials "api" (token-file): token file `{}` is empty"#,
                path.display()
            ),
            "content {content:?}"
        );
    }
}

#[test]
fn token_file_not_utf8_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, b"tok\xffen").unwrap();
    let err = TokenFile::new(&path).load().unwrap_err();
    match err.kind() {
        CredentialErrorKind::Read { source, .. } => {
            assert_eq!(source.kind(), std::io::ErrorKind::InvalidData)
        }
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[test]
fn rotated_token_file_is_read_again_on_every_get() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    write(&path, "rotation-token-one-5a1f\n");
    let mut registry = CredentialRegistry::new();
    registry.register("api", TokenFile::new(&path)).unwrap();

    let first = registry.get("api").unwrap();
    assert_eq!(
        first.bearer().as_deref(),
        Some("Bearer rotation-token-one-5a1f")
    );

    write(&path, "rotation-token-two-5a1f\n");
    let second = registry.get("api").unwrap();
    assert_eq!(
        second.bearer().as_deref(),
        Some("Bearer rotation-token-two-5a1f")
    );
    // Both generations stay masked.
    assert_eq!(
        redact::redact("rotation-token-one-5a1f rotation-token-two-5a1f"),
        "*** ***"
    );

    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        registry.get("api").unwrap_err().kind(),
        CredentialErrorKind::Read { .. }
    ));
}

// ---------------------------------------------------------------- k8s-service-account

#[test]
fn kubernetes_service_account_default_paths() {
    let provider = KubernetesServiceAccount::default();
    assert_eq!(provider.kind(), "k8s-service-account");
    assert_eq!(
        provider.token_path(),
        Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token")
    );
    assert_eq!(
        provider.namespace_path(),
        Path::new("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    );
    assert_eq!(provider, KubernetesServiceAccount::at(SERVICE_ACCOUNT_DIR));
}

#[test]
fn kubernetes_service_account_loads_token_and_namespace() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("token"), "k8s-sa-token-e7d2\n");
    write(&dir.path().join("namespace"), "payments\n");
    let mut registry = CredentialRegistry::new();
    registry
        .register("cluster", KubernetesServiceAccount::at(dir.path()))
        .unwrap();
    let creds = registry.get("cluster").unwrap();
    assert_eq!(creds.username.as_deref(), Some("payments"));
    assert_eq!(creds.password, None);
    assert_eq!(creds.bearer().as_deref(), Some("Bearer k8s-sa-token-e7d2"));
    assert_eq!(redact::redact("k8s-sa-token-e7d2"), "***");
}

#[test]
fn kubernetes_service_account_without_namespace_file_has_no_username() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("token"), "k8s-sa-nons-token-41c0");
    let creds = KubernetesServiceAccount::at(dir.path()).load().unwrap();
    assert_eq!(creds.username, None);
    assert_eq!(creds.token.unwrap().expose(), "k8s-sa-nons-token-41c0");

    // A blank namespace file counts as no namespace.
    write(&dir.path().join("namespace"), " \n");
    let creds = KubernetesServiceAccount::at(dir.path()).load().unwrap();
    assert_eq!(creds.username, None);
}

#[test]
fn kubernetes_service_account_errors_name_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let provider = KubernetesServiceAccount::at(dir.path());
    let err = provider.load().unwrap_err().named("cluster");
    assert!(
        err.to_string().starts_with(&format!(
            r#"credentials "cluster" (k8s-service-account): could not read token file `{}`: "#,
            dir.path().join("token").display()
        )),
        "{err}"
    );

    write(&dir.path().join("token"), "\n");
    let err = provider.load().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "credentials (k8s-service-account): token file `{}` is empty",
            dir.path().join("token").display()
        )
    );

    // A namespace "file" that exists but cannot be read is an error, not a silent `None`.
    write(&dir.path().join("token"), "k8s-sa-err-token-93ab");
    std::fs::create_dir(dir.path().join("namespace")).unwrap();
    let err = provider.load().unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "credentials (k8s-service-account): could not read namespace file `{}`: ",
            dir.path().join("namespace").display()
        )),
        "{err}"
    );
}

// ---------------------------------------------------------------- registry

#[test]
fn second_registration_of_a_name_is_refused_and_the_first_stays() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("token"), "dup-first-token-c3c3");
    std::env::set_var("CREDTEST_DUP_USER", "ops");
    std::env::set_var("CREDTEST_DUP_PASSWORD", "dup-second-pass");

    let mut registry = CredentialRegistry::new();
    registry
        .register("api", TokenFile::new(dir.path().join("token")))
        .unwrap();
    let err = registry
        .register(
            "api",
            EnvUserPassword::new("CREDTEST_DUP_USER", "CREDTEST_DUP_PASSWORD"),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"credentials "api" (token-file) are registered once: a second provider (env-user-password) was refused"#
    );
    assert!(matches!(
        err.kind(),
        CredentialErrorKind::Duplicate {
            existing: "token-file"
        }
    ));
    assert_eq!(err.provider(), Some("env-user-password"));
    assert_eq!(err.name(), Some("api"));
    assert_eq!(registry.len(), 1);
    assert_eq!(registry.kind("api"), Some("token-file"));
    assert_eq!(
        registry.get("api").unwrap().bearer().as_deref(),
        Some("Bearer dup-first-token-c3c3")
    );
}

#[test]
fn unknown_name_lists_the_registered_names() {
    let mut registry = CredentialRegistry::new();
    let err = registry.get("ops").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"no credentials are registered as "ops" (none are registered)"#
    );

    registry.register("zeta", TokenFile::new("z")).unwrap();
    registry
        .register("alpha", KubernetesServiceAccount::default())
        .unwrap();
    registry
        .register("ops-db", EnvUserPassword::new("A", "B"))
        .unwrap();
    let err = registry.get("ops").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"no credentials are registered as "ops" (registered: "alpha", "ops-db", "zeta")"#
    );
    assert_eq!(err.name(), Some("ops"));
    match err.kind() {
        CredentialErrorKind::Unknown { registered } => {
            assert_eq!(registered, &["alpha", "ops-db", "zeta"]);
        }
        other => panic!("expected an unknown-name error, got {other:?}"),
    }
    assert_eq!(err.provider(), None);
    assert_eq!(
        registry.names().collect::<Vec<_>>(),
        ["alpha", "ops-db", "zeta"]
    );
    assert!(registry.contains("zeta"));
    assert!(!registry.contains("ops"));
    assert_eq!(registry.kind("ops"), None);
    assert_eq!(
        format!("{registry:?}"),
        r#"{"alpha": "k8s-service-account", "ops-db": "env-user-password", "zeta": "token-file"}"#
    );
}

/// A custom provider: a fake vault that hands out a new lease on every load.
struct Vault {
    leases: AtomicUsize,
    sealed: bool,
}

impl CredentialProvider for Vault {
    fn kind(&self) -> &'static str {
        "fake-vault"
    }

    fn load(&self) -> Result<Credentials, CredentialError> {
        if self.sealed {
            return Err(CredentialError::custom(
                self.kind(),
                std::io::Error::new(std::io::ErrorKind::PermissionDenied, "the vault is sealed"),
            ));
        }
        let lease = self.leases.fetch_add(1, Ordering::SeqCst);
        Ok(Credentials {
            username: Some("vault-user".into()),
            password: Some(Secret::new(format!("vault-lease-pass-{lease}-8e8e"))),
            token: None,
        })
    }
}

#[test]
fn custom_struct_provider_is_registered_and_loaded_on_every_get() {
    let mut registry = CredentialRegistry::new();
    registry
        .register(
            "db",
            Vault {
                leases: AtomicUsize::new(0),
                sealed: false,
            },
        )
        .unwrap();
    registry
        .register(
            "sealed",
            Vault {
                leases: AtomicUsize::new(0),
                sealed: true,
            },
        )
        .unwrap();
    assert_eq!(registry.kind("db"), Some("fake-vault"));

    let first = registry.get("db").unwrap();
    let second = registry.get("db").unwrap();
    assert_eq!(
        first.password.as_ref().map(Secret::expose),
        Some("vault-lease-pass-0-8e8e")
    );
    assert_eq!(
        second.password.as_ref().map(Secret::expose),
        Some("vault-lease-pass-1-8e8e")
    );
    assert_eq!(redact::redact("vault-lease-pass-1-8e8e"), "***");

    let err = registry.get("sealed").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"credentials "sealed" (fake-vault): the vault is sealed"#
    );
    assert_eq!(error_chain(&err), err.to_string());
    assert!(matches!(err.kind(), CredentialErrorKind::Provider { .. }));
}

#[test]
fn closure_provider_is_registered_and_used() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let mut registry = CredentialRegistry::new();
    registry
        .register(
            "fixed",
            from_fn("fixed-token", move || {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok(Credentials::from_token("closure-token-2d6b"))
            }),
        )
        .unwrap();
    registry
        .register(
            "failing",
            from_fn("fixed-token", || {
                Err(CredentialError::custom("fixed-token", "no token today"))
            }),
        )
        .unwrap();

    assert_eq!(registry.kind("fixed"), Some("fixed-token"));
    for _ in 0..3 {
        assert_eq!(
            registry.get("fixed").unwrap().bearer().as_deref(),
            Some("Bearer closure-token-2d6b")
        );
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "loaded afresh on every get"
    );
    assert_eq!(
        registry.get("failing").unwrap_err().to_string(),
        r#"credentials "failing" (fixed-token): no token today"#
    );
}

#[test]
fn shared_provider_and_cloned_registry() {
    let shared: Arc<dyn CredentialProvider> = Arc::new(from_fn("shared", || {
        Ok(Credentials::from_token("shared-token-0f0f"))
    }));
    let mut a = CredentialRegistry::new();
    a.register("api", Arc::clone(&shared)).unwrap();
    let b = a.clone();
    assert_eq!(b.kind("api"), Some("shared"));

    // The registry is Send + Sync: threads load from one registry at once.
    let a = Arc::new(a);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let a = Arc::clone(&a);
            std::thread::spawn(move || a.get("api").unwrap().bearer())
        })
        .collect();
    for h in handles {
        assert_eq!(
            h.join().unwrap().as_deref(),
            Some("Bearer shared-token-0f0f")
        );
    }
    assert_eq!(
        b.get("api").unwrap().bearer().as_deref(),
        Some("Bearer shared-token-0f0f")
    );
}

// ---------------------------------------------------------------- Credentials

#[test]
fn basic_header_matches_rfc_7617_example_and_is_redacted() {
    let creds = Credentials::from_user_password("Aladdin", "open sesame");
    assert_eq!(
        creds.basic().as_deref(),
        Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    );
    assert_eq!(
        redact::redact("Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        "Authorization: Basic ***",
        "the encoded credentials are secret too"
    );
    assert_eq!(redact::redact("open sesame"), "***");
}

#[test]
fn basic_header_from_environment_and_utf8() {
    std::env::set_var("CREDTEST_BASIC_USER", "user");
    std::env::set_var("CREDTEST_BASIC_PASSWORD", "pässwörd");
    let creds = EnvUserPassword::new("CREDTEST_BASIC_USER", "CREDTEST_BASIC_PASSWORD")
        .load()
        .unwrap();
    // printf 'user:pässwörd' | base64
    assert_eq!(creds.basic().as_deref(), Some("Basic dXNlcjpww6Rzc3fDtnJk"));
}

#[test]
fn basic_and_bearer_need_their_parts() {
    assert_eq!(Credentials::default().basic(), None);
    assert_eq!(Credentials::default().bearer(), None);
    let token_only = Credentials::from_token("needs-parts-token");
    assert_eq!(token_only.basic(), None);
    assert_eq!(
        token_only.bearer().as_deref(),
        Some("Bearer needs-parts-token")
    );
    let no_user = Credentials {
        username: None,
        password: Some(Secret::new("needs-parts-pass")),
        token: None,
    };
    assert_eq!(no_user.basic(), None);
    let no_password = Credentials {
        username: Some("ops".into()),
        ..Credentials::default()
    };
    assert_eq!(no_password.basic(), None);
}

#[test]
fn credentials_debug_and_json_never_show_secrets() {
    let creds = Credentials {
        username: Some("ops".into()),
        password: Some(Secret::new("debug-pass-aa11")),
        token: Some(Secret::new("debug-token-bb22")),
    };
    let debug = format!("{creds:?}");
    assert!(!debug.contains("debug-pass-aa11"), "{debug}");
    assert!(!debug.contains("debug-token-bb22"), "{debug}");
    assert_eq!(
        debug,
        r#"Credentials { username: Some("ops"), password: Some(***), token: Some(***) }"#
    );
    let mut journal = serde_json::json!({ "header": creds.bearer().unwrap() });
    redact::redact_json(&mut journal);
    assert_eq!(journal, serde_json::json!({ "header": "Bearer ***" }));
}

#[test]
fn service_account_token_at_any_path() {
    use chaos_runtime::credentials::{CredentialProvider, KubernetesServiceAccount};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("my-token"), "sa-token-custom-path-7788\n").unwrap();
    std::fs::write(dir.path().join("namespace"), "shop\n").unwrap();
    let c = KubernetesServiceAccount::with_token_path(dir.path().join("my-token"))
        .load()
        .unwrap();
    assert_eq!(c.token.unwrap().expose(), "sa-token-custom-path-7788");
    assert_eq!(c.username.as_deref(), Some("shop"));
}

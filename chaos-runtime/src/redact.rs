//! The redactor: every secret value that reaches a run is registered here, and every byte we
//! write or send (journals, snapshots, verdicts, notifications, logs, panic messages) passes
//! through it, so secrets show as `***`.

use serde_json::Value;
use std::borrow::Cow;
use std::sync::RwLock;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Secrets shorter than this are not registered: masking every `a` or `1` would destroy the
/// output while protecting nothing.
pub const MIN_SECRET_LEN: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers `value` as secret for the rest of the process. Values shorter than
/// [`MIN_SECRET_LEN`] are ignored (and logged).
///
/// ```
/// chaos_runtime::redact::register("hunter2-doc-example");
/// assert_eq!(chaos_runtime::redact::redact("pw=hunter2-doc-example"), "pw=***");
/// ```
pub fn register(value: &str) {
    if value.len() < MIN_SECRET_LEN {
        if !value.is_empty() {
            tracing::warn!(
                "a secret of {} characters is too short to redact safely; it is not masked",
                value.len()
            );
        }
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    if !secrets.iter().any(|s| s == value) {
        secrets.push(value.to_owned());
        // Longest first, so a secret that contains another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Whether any secret is registered.
pub fn active() -> bool {
    !SECRETS.read().unwrap_or_else(|p| p.into_inner()).is_empty()
}

/// `text` with every registered secret replaced by [`MASK`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|p| p.into_inner());
    let mut out = Cow::Borrowed(text);
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = Cow::Owned(out.replace(s.as_str(), MASK));
        }
    }
    out
}

/// Redacts every string (keys included) in a JSON value, in place.
pub fn redact_json(v: &mut Value) {
    if !active() {
        return;
    }
    fn walk(v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Cow::Owned(r) = redact(s) {
                    *s = r;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            Value::Object(m) => {
                let taken = std::mem::take(m);
                for (k, mut val) in taken {
                    walk(&mut val);
                    m.insert(redact(&k).into_owned(), val);
                }
            }
            _ => {}
        }
    }
    walk(v)
}

/// A secret value: its `Debug` and `Display` show `***`, and it is registered with the
/// redactor when made. Read it with [`Secret::expose`].
///
/// ```
/// use chaos_runtime::redact::Secret;
/// let s = Secret::new("s3cr3t-token-value");
/// assert_eq!(format!("{s} {s:?}"), "*** ***");
/// assert_eq!(s.expose(), "s3cr3t-token-value");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps and registers `value`.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        register(&value);
        Secret(value)
    }

    /// The secret's value. Whatever it is written into is redacted on the way out of the run.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

/// Installs a panic hook that redacts panic messages before the previous hook prints them.
/// Idempotent.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !active() {
                return previous(info);
            }
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned());
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("<unnamed>");
            eprintln!(
                "thread '{name}' panicked{location}:\n{}",
                redact(payload.as_deref().unwrap_or("Box<dyn Any>"))
            );
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_strings_keys_and_nested_secrets() {
        register("outer-secret-inner-secret");
        register("inner-secret");
        register("abc");
        assert_eq!(redact("x outer-secret-inner-secret y"), "x *** y");
        assert_eq!(redact("x inner-secret y"), "x *** y");
        assert_eq!(redact("abc"), "abc", "too short to register");
        let mut v =
            serde_json::json!({"inner-secret": ["inner-secret", 1, {"k": "a inner-secret"}]});
        redact_json(&mut v);
        assert_eq!(v, serde_json::json!({"***": ["***", 1, {"k": "a ***"}]}));
    }
}

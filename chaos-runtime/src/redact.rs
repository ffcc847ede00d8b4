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

/// The registered secrets, and every form each may take in text.
struct Registry {
    /// The secrets, as registered.
    secrets: Vec<String>,
    /// What [`redact`] looks for: each secret raw and escaped (see [`forms`]), longest first.
    patterns: Vec<String>,
}

static REGISTRY: RwLock<Registry> = RwLock::new(Registry {
    secrets: Vec::new(),
    patterns: Vec::new(),
});

fn registry() -> std::sync::RwLockReadGuard<'static, Registry> {
    REGISTRY.read().unwrap_or_else(|p| p.into_inner())
}

/// Registers `value` as secret for the rest of the process. Values shorter than
/// [`MIN_SECRET_LEN`] bytes are ignored (and logged).
///
/// Text is redacted of the value as it is and of the forms escaping gives it, so a secret
/// holding quotes, backslashes, control characters or non-ASCII text is masked in JSON and
/// `Debug` output too (see [`redact`]).
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
                value.chars().count()
            );
        }
        return;
    }
    let mut reg = REGISTRY.write().unwrap_or_else(|p| p.into_inner());
    if reg.secrets.iter().any(|s| s == value) {
        return;
    }
    reg.secrets.push(value.to_owned());
    for form in forms(value) {
        if !reg.patterns.contains(&form) {
            reg.patterns.push(form);
        }
    }
    // Longest first: the order is only for determinism, overlaps are merged by `redact`.
    reg.patterns
        .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
}

/// The forms `secret` may take in text: as it is; escaped as in a JSON string (by serde_json,
/// or with every non-ASCII character as `\uXXXX`, as Python and other receivers write it);
/// escaped as Rust's `Debug` does; and each escaped form escaped once more (a JSON text
/// inside a JSON string, a JSON text in a `Debug`-formatted error).
fn forms(secret: &str) -> Vec<String> {
    let once = [
        secret.to_owned(),
        json_escaped(secret),
        ascii_json_escaped(secret),
        debug_escaped(secret),
    ];
    let mut forms: Vec<String> = Vec::new();
    for f in once
        .iter()
        .flat_map(|f| [f.clone(), json_escaped(f), debug_escaped(f)])
    {
        if !forms.contains(&f) {
            forms.push(f);
        }
    }
    forms
}

/// `s` as serde_json writes it inside a string, without the quotes.
fn json_escaped(s: &str) -> String {
    let quoted = Value::String(s.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// `s` as in a JSON string with every non-ASCII character escaped (`\u00e4`, surrogate pairs
/// beyond the Basic Multilingual Plane).
fn ascii_json_escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in json_escaped(s).chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// `s` as Rust's `Debug` writes it, without the quotes.
fn debug_escaped(s: &str) -> String {
    let quoted = format!("{s:?}");
    quoted[1..quoted.len() - 1].to_owned()
}

/// Whether any secret is registered.
pub fn active() -> bool {
    !registry().secrets.is_empty()
}

/// `text` with every registered secret replaced by [`MASK`]: the secret as it is and the forms
/// JSON and `Debug` escaping give it (so text someone else escaped is masked too). Where
/// occurrences overlap (two secrets sharing a part, a secret repeating itself), the whole
/// overlapping stretch becomes one mask, so no part of either is left.
pub fn redact(text: &str) -> Cow<'_, str> {
    let reg = registry();
    let mut found: Vec<(usize, usize)> = Vec::new();
    for p in &reg.patterns {
        let mut from = 0;
        while let Some(i) = text[from..].find(p.as_str()) {
            let start = from + i;
            found.push((start, start + p.len()));
            // The next character, not the end of the match: occurrences may overlap.
            from = start + text[start..].chars().next().map_or(1, char::len_utf8);
        }
    }
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    found.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut found = found.into_iter().peekable();
    while let Some((start, mut end)) = found.next() {
        while let Some(&(next_start, next_end)) = found.peek() {
            if next_start >= end {
                break;
            }
            end = end.max(next_end);
            found.next();
        }
        out.push_str(&text[copied..start]);
        out.push_str(MASK);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Redacts every string (keys included) in a JSON value, in place. Do it before the value is
/// serialized: the secrets are then masked as they are, before escaping changes them.
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

/// `v` as compact JSON text, redacted: its strings and keys are redacted before serde_json
/// escapes them, then the text itself (a secret split across two strings).
///
/// ```
/// chaos_runtime::redact::register("pa\"ss-doc-json");
/// let v = serde_json::json!({ "pw": "pa\"ss-doc-json" });
/// assert_eq!(chaos_runtime::redact::json_text(&v), r#"{"pw":"***"}"#);
/// ```
pub fn json_text(v: &Value) -> String {
    if !active() {
        return v.to_string();
    }
    let mut v = v.clone();
    redact_json(&mut v);
    let text = v.to_string();
    match redact(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(r) => r,
    }
}

/// `text` redacted, then cut to at most `max_chars` characters, on a character boundary, with
/// `…` appended when it was cut. Redacting first means a secret across the cut is masked
/// whole, not cut in two halves the redactor no longer recognizes.
///
/// ```
/// chaos_runtime::redact::register("straddling-doc-secret");
/// let text = format!("{}straddling-doc-secret", "x".repeat(8));
/// assert_eq!(chaos_runtime::redact::redact_truncated(&text, 10), "xxxxxxxx**…");
/// assert_eq!(chaos_runtime::redact::redact_truncated("ééé", 2), "éé…");
/// ```
pub fn redact_truncated(text: &str, max_chars: usize) -> String {
    let text = redact(text);
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// An [`std::io::Write`] that redacts what passes through it: it keeps what is written until
/// it is flushed or dropped, then writes it to the inner writer redacted. Made per log record
/// (as `tracing_subscriber`'s `fmt` layer does with a closure writer), it masks secrets in
/// whatever a log line holds, `Debug`-formatted fields included:
///
/// ```
/// use std::io::Write;
/// chaos_runtime::redact::register("log-doc-secret");
/// let mut out = Vec::new();
/// {
///     let mut w = chaos_runtime::redact::RedactingWriter::new(&mut out);
///     write!(w, "token={:?}", "log-doc-secret").unwrap();
/// }
/// assert_eq!(out, b"token=\"***\"");
/// ```
///
/// A secret split across two flushes is not recognized: flush whole records only.
pub struct RedactingWriter<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: std::io::Write> RedactingWriter<W> {
    /// A writer that redacts into `inner`.
    pub fn new(inner: W) -> Self {
        RedactingWriter {
            inner,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let text = String::from_utf8_lossy(&pending);
        self.inner.write_all(redact(&text).as_bytes())
    }
}

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.emit()?;
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        // A log line that cannot be written has nowhere to report to.
        let _ = self.emit();
        let _ = self.inner.flush();
    }
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

/// Secrets for the crate's tests, and a leak check.
#[cfg(test)]
pub(crate) mod testing {
    use super::register;

    /// Registered secrets that JSON and Rust escape: quotes, backslashes, control characters,
    /// non-ASCII text. Each begins with `Zq` and ends with `Xw`, two markers no other text of
    /// these tests holds, so a leak of either end shows.
    pub(crate) fn awkward(tag: &str) -> Vec<String> {
        [
            "say \"cheese\"",
            "C:\\temp\\new",
            "line1\nline2\t\u{7}",
            "pässwörd✓🔑",
            "\"\\\n✓'<>&",
        ]
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let s = format!("Zq{tag}{i}{body}Xw{tag}{i}");
            register(&s);
            s
        })
        .collect()
    }

    pub(crate) fn assert_masked(out: &str, what: &str) {
        assert!(
            !out.contains("Zq") && !out.contains("Xw"),
            "{what} leaks a secret: {out}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{assert_masked, awkward};
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

    #[test]
    fn masks_the_escaped_forms_of_a_secret() {
        for s in awkward("esc") {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(redact(&json), "\"***\"", "JSON of {s:?}");
            let twice = serde_json::to_string(&json).unwrap();
            assert_eq!(redact(&twice), "\"\\\"***\\\"\"", "JSON in JSON of {s:?}");
            assert_eq!(redact(&format!("{s:?}")), "\"***\"", "Debug of {s:?}");
            assert_eq!(redact(&format!("<{s}>")), "<***>", "raw {s:?}");
        }
        let ascii = "Zqesc3p\\u00e4ssw\\u00f6rd\\u2713\\ud83d\\udd11Xwesc3";
        assert_eq!(redact(ascii), "***", "JSON with non-ASCII escaped");
    }

    #[test]
    fn redact_json_masks_escaped_secrets_inside_strings_and_keys() {
        for s in awkward("val") {
            let mut v = serde_json::json!({
                "error": format!("bad answer {}", serde_json::json!({"pw": s})),
                "debug": format!("failed: {s:?}"),
                format!("key {}", serde_json::json!(s)): [s, {"nested": format!("x{s}y")}],
            });
            redact_json(&mut v);
            assert_masked(&v.to_string(), "compact JSON");
            assert_masked(&serde_json::to_string_pretty(&v).unwrap(), "pretty JSON");
            assert_masked(&format!("{v:?}"), "Debug of the value");
        }
    }

    #[test]
    fn json_text_masks_before_escaping() {
        for s in awkward("jt") {
            let v = serde_json::json!({ "a": s, (s.clone()): [format!("x{s}"), {"b": s}] });
            let text = json_text(&v);
            assert_masked(&text, "json_text");
            assert_eq!(text, r#"{"***":["x***",{"b":"***"}],"a":"***"}"#);
        }
    }

    #[test]
    fn the_cut_never_reveals_part_of_a_secret_and_keeps_characters_whole() {
        for s in awkward("cut") {
            for form in [
                s.clone(),
                serde_json::to_string(&s).unwrap(),
                format!("{s:?}"),
            ] {
                let len = form.chars().count();
                for dots in 0..=len + 2 {
                    let text = format!("{}{form} tail ✓✓✓", ".".repeat(dots));
                    for max in dots.saturating_sub(2)..=dots + len + 2 {
                        let out = redact_truncated(&text, max);
                        assert_masked(&out, &format!("{dots} dots cut at {max}"));
                        assert!(out.chars().count() <= max + 1, "{out}");
                        assert!(out.starts_with(&".".repeat(dots.min(max))), "{out}");
                    }
                }
            }
        }
        assert_eq!(redact_truncated("äöü✓", 3), "äöü…");
        assert_eq!(redact_truncated("äöü✓", 4), "äöü✓");
        assert_eq!(redact_truncated("", 0), "");
    }

    #[test]
    fn the_redacting_writer_masks_whole_records() {
        use std::io::Write;
        for s in awkward("wr") {
            let mut out = Vec::new();
            {
                let mut w = RedactingWriter::new(&mut out);
                // Written in pieces that split the secret, as a formatter does.
                let (a, b) = s.split_at(s.char_indices().nth(5).unwrap().0);
                write!(w, "raw {a}").unwrap();
                write!(w, "{b}; debug {s:?}; json {}", serde_json::json!(s)).unwrap();
                w.flush().unwrap();
                write!(w, "\nafter the flush {s}").unwrap();
            }
            let out = String::from_utf8(out).unwrap();
            assert_masked(&out, "the writer");
            assert_eq!(
                out,
                "raw ***; debug \"***\"; json \"***\"\nafter the flush ***"
            );
        }
    }

    #[test]
    fn overlapping_secrets_are_masked_whole() {
        register("Zq-overlap-alpha-beta");
        register("beta-gamma-overlap-Xw");
        assert_eq!(redact("<Zq-overlap-alpha-beta-gamma-overlap-Xw>"), "<***>");
        register("Zq-self-Zq");
        let out = redact("Zq-self-Zq-self-Zq!");
        assert_eq!(out, "***!");
    }
}

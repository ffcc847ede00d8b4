//! What a person reads of a run: the live console lines ([`console`]), the verdict of a
//! failed experiment ([`verdict`]), the HTML report ([`html`]), and what CI systems read
//! ([`junit`]).

pub(crate) mod cases;
pub(crate) mod console;
pub mod html;
pub(crate) mod junit;
pub(crate) mod verdict;

#[cfg(test)]
mod tests {
    /// Registered secrets that JSON and Rust escape: quotes, backslashes, control characters,
    /// non-ASCII text. Each begins with `Zq` and ends with `Xw`, markers no other text of these
    /// tests holds, so a leak of either end (or of a few first characters) shows.
    pub(super) fn awkward(tag: &str) -> Vec<String> {
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
            chaos_runtime::redact::register(&s);
            s
        })
        .collect()
    }
}

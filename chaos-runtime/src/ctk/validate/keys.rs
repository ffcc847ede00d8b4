//! The keys of each mapping of an experiment: the ones it may have, the ones given twice, and
//! for an unknown key the valid ones, a near miss, or where it belongs.

use super::{join, Checker};
use crate::ctk::doc::Node;

/// Where a key that is unknown here belongs, when it is a key of somewhere else.
pub(super) struct Misplaced {
    /// The key.
    pub key: &'static str,
    /// Where it belongs and what Chaos Toolkit does with it here.
    pub hint: &'static str,
}

impl Checker<'_> {
    /// Checks the keys of mapping `node` at `path`: each known (`allowed`), each once. An
    /// unknown key's message lists the valid ones, suggests a near miss, or says where a
    /// misplaced one belongs (`misplaced`, or `extra`: more hints computed by the caller).
    pub(super) fn keys(
        &mut self,
        node: &Node,
        path: &str,
        allowed: &[&str],
        misplaced: &[Misplaced],
        extra: &dyn Fn(&str) -> Option<String>,
    ) {
        let entries = node.entries();
        for (i, e) in entries.iter().enumerate() {
            if let Some(first) = entries[..i].iter().find(|x| x.key == e.key) {
                self.ignored_key(
                    e.line,
                    &join(path, &e.key),
                    format!(
                        "`{}` is given twice (lines {} and {}): Chaos Toolkit keeps the last one and drops the other without a word; keep one",
                        e.key, first.line, e.line
                    ),
                );
            }
            if allowed.contains(&e.key.as_str()) {
                continue;
            }
            let why = if let Some(m) = misplaced.iter().find(|m| m.key == e.key) {
                m.hint.to_owned()
            } else if let Some(hint) = extra(&e.key) {
                hint
            } else {
                let near = near_miss(&e.key, allowed)
                    .map(|k| format!("; did you mean `{k}`?"))
                    .unwrap_or_default();
                format!(
                    "Chaos Toolkit ignores it without a word; valid keys here: {}{near}",
                    allowed.join(", ")
                )
            };
            self.ignored_key(
                e.line,
                &join(path, &e.key),
                format!("unknown key `{}`: {why}", e.key),
            );
        }
    }
}

/// The candidate `key` is most likely a misspelling of: equal once case, spaces, `-` and `_`
/// are ignored, or within a small edit distance.
pub(crate) fn near_miss<'a>(key: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let k = squash(key);
    if let Some(c) = candidates.iter().find(|c| squash(c) == k) {
        return Some(c);
    }
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(key, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(key.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::near_miss;

    #[test]
    fn near_misses_ignore_spacing_and_allow_small_typos() {
        let keys = ["steady-state-hypothesis", "method", "rollbacks", "title"];
        assert_eq!(
            near_miss("steady - state - hypothesis", &keys),
            Some("steady-state-hypothesis")
        );
        assert_eq!(near_miss("rollback", &keys), Some("rollbacks"));
        assert_eq!(near_miss("methd", &keys), Some("method"));
        assert_eq!(near_miss("Title", &keys), Some("title"));
        assert_eq!(near_miss("contributions", &keys), None);
    }
}

//! The experiment's own keys: title, description, tags, extensions, configuration, secrets,
//! the steady-state hypothesis, method, rollbacks, controls and runtime.

use super::activity::Place;
use super::keys::Misplaced;
use super::{index, join, Checker};
use crate::ctk::doc::{Node, Value};

/// The keys an experiment may have.
pub(super) const EXPERIMENT_KEYS: &[&str] = &[
    "version",
    "title",
    "description",
    "tags",
    "contributions",
    "configuration",
    "secrets",
    "extensions",
    "controls",
    "steady-state-hypothesis",
    "method",
    "rollbacks",
    "runtime",
];

/// Hypothesis strategies, as `--hypothesis-strategy` and `runtime.hypothesis.strategy` take
/// them (`continously` is Chaos Toolkit's old spelling).
pub(crate) const HYPOTHESIS_STRATEGIES: &[&str] = &[
    "default",
    "before-method-only",
    "after-method-only",
    "during-method-only",
    "continuously",
    "continously",
    "skip",
];

/// Rollback strategies.
pub(crate) const ROLLBACK_STRATEGIES: &[&str] = &["default", "always", "never", "deviated"];

/// The types `env_var_type` and `--var name:type=value` take.
pub(crate) const VAR_TYPES: &[&str] = &[
    "str", "string", "int", "integer", "float", "number", "bytes", "bool", "json",
];

impl Checker<'_> {
    pub(super) fn experiment(&mut self, root: &Node) {
        if root.entries().is_empty() {
            self.ctk(
                root.line,
                "(experiment)",
                "an empty experiment is not an experiment",
            );
            return;
        }
        self.keys(
            root,
            "",
            EXPERIMENT_KEYS,
            &[
                Misplaced {
                    key: "rollback",
                    hint: "did you mean `rollbacks`? Chaos Toolkit ignores `rollback`, so these rollbacks never run",
                },
                Misplaced {
                    key: "probes",
                    hint: "probes belong under `steady-state-hypothesis` (with its `title`); Chaos Toolkit ignores them here",
                },
            ],
            &|_| None,
        );
        for key in ["title", "description"] {
            match root.get(key) {
                Some(n) if n.as_str().is_some_and(|s| !s.is_empty()) => {}
                Some(n) if !matches!(n.value, Value::Str(_) | Value::Null) => {
                    let line = n.line;
                    self.ours(line, key, format!("must be a string, found {}", n.kind()))
                }
                other => {
                    let line = other.map_or(root.line, |n| n.line);
                    self.ctk(line, key, format!("experiment requires a {key}"))
                }
            }
        }
        if let Some(tags) = root.get("tags") {
            match &tags.value {
                Value::Seq(items) => {
                    if items.iter().any(|t| t.as_str().is_none_or(str::is_empty)) {
                        self.ctk(
                            tags.line,
                            "tags",
                            "experiment tags must be a non-empty string",
                        );
                    }
                }
                Value::Null => {}
                _ => self.ours(
                    tags.line,
                    "tags",
                    format!("must be a list of strings, found {}", tags.kind()),
                ),
            }
        }
        if let Some(ext) = root.get("extensions") {
            for (i, e) in ext.items().iter().enumerate() {
                if e.get("name")
                    .and_then(Node::as_str)
                    .is_none_or(|n| n.trim().is_empty())
                {
                    self.ctk(
                        e.line,
                        &index("extensions", i),
                        "All extensions require a non-empty name",
                    );
                }
            }
        }
        if let Some(c) = root.get("configuration") {
            self.configuration(c);
        }
        if let Some(s) = root.get("secrets") {
            self.secrets(s);
        }
        // The names `ref` may point at, before any activity is checked.
        self.refs = root
            .get("method")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .chain(
                root.get("steady-state-hypothesis")
                    .and_then(|h| h.get("probes"))
                    .map(Node::items)
                    .unwrap_or_default(),
            )
            .filter_map(|a| a.get("name").and_then(Node::as_str).map(str::to_owned))
            .collect();
        if let Some(e) = root.entry("steady-state-hypothesis") {
            self.hypothesis(&e.value, e.line);
        }
        match root.get("method") {
            None | Some(Node {
                value: Value::Null, ..
            }) => self.ctk(
                root.get("method").map_or(root.line, |n| n.line),
                "method",
                "an experiment requires a method, which can be empty for only checking steady state hypothesis ",
            ),
            Some(m) => self.activities(m, "method", Place::Method),
        }
        if let Some(r) = root.get("rollbacks") {
            self.activities(r, "rollbacks", Place::Rollback);
        }
        self.all_controls(root);
        if let Some(rt) = root.get("runtime") {
            self.runtime(rt);
        }
    }

    fn configuration(&mut self, c: &Node) {
        if !self.mapping(c, "configuration", "`configuration`") {
            return;
        }
        for e in c.entries() {
            let path = join("configuration", &e.key);
            if self.inputs.vars.contains_key(&e.key) {
                // Replaced by a `--var` or a var-file: the file's definition is not read.
                continue;
            }
            let Some(kind) = e.value.get("type") else {
                continue;
            };
            match kind.as_str() {
                Some("env") => {
                    self.keys(
                        &e.value,
                        &path,
                        &["type", "key", "default", "env_var_type"],
                        &[],
                        &|_| None,
                    );
                    match e.value.get("key").and_then(Node::as_str) {
                        None => self.ours(
                            e.value.line,
                            &path,
                            "an `env` value needs `key`, the environment variable's name",
                        ),
                        Some(key) => {
                            if e.value.get("default").is_none() && self.inputs.env_var(key).is_none() {
                                self.ctk(
                                    e.value.line,
                                    &path,
                                    format!("Configuration makes reference to an environment key that does not exist: {key}"),
                                );
                            }
                        }
                    }
                    if let Some(t) = e.value.get("env_var_type") {
                        if t.as_str().is_none_or(|t| !VAR_TYPES.contains(&t)) {
                            self.ours(
                                t.line,
                                &join(&path, "env_var_type"),
                                format!(
                                    "variable type can only be: bool, str, int, float, bytes or json (found {})",
                                    t.to_json()
                                ),
                            );
                        }
                    }
                }
                Some("probe") | Some("action") => self.ours(
                    e.value.line,
                    &path,
                    "dynamic configuration (an activity run to compute the value) cannot run here: give the value, or an `env` value",
                ),
                _ => self.ours(
                    kind.line,
                    &join(&path, "type"),
                    format!(
                        "unknown configuration type {}: `env` reads an environment variable; a plain value needs no `type`",
                        kind.to_json()
                    ),
                ),
            }
        }
    }

    fn secrets(&mut self, s: &Node) {
        if !self.mapping(s, "secrets", "`secrets`") {
            return;
        }
        for scope in s.entries() {
            let path = join("secrets", &scope.key);
            if !self.mapping(&scope.value, &path, "a secrets scope") {
                continue;
            }
            for e in scope.value.entries() {
                let path = join(&path, &e.key);
                match e.value.get("type").and_then(Node::as_str) {
                    None => {}
                    Some("env") => {
                        self.keys(&e.value, &path, &["type", "key"], &[], &|_| None);
                        match e.value.get("key").and_then(Node::as_str) {
                            None => self.ours(
                                e.value.line,
                                &path,
                                "an `env` secret needs `key`, the environment variable's name",
                            ),
                            Some(key) if self.inputs.env_var(key).is_none() => self.ctk(
                                e.value.line,
                                &path,
                                format!("Secrets make reference to an environment key that does not exist: {key}"),
                            ),
                            Some(_) => {}
                        }
                    }
                    Some("vault") => self.ours(
                        e.value.line,
                        &path,
                        "Vault secrets cannot be read here: give the secret inline or from the environment (`type: env`)",
                    ),
                    Some(other) => self.ours(
                        e.value.line,
                        &join(&path, "type"),
                        format!("unknown secret type `{other}`: `env` reads an environment variable"),
                    ),
                }
            }
        }
    }

    /// The hypothesis `h`, whose key is on `line`.
    fn hypothesis(&mut self, h: &Node, line: usize) {
        let path = "steady-state-hypothesis";
        if !self.mapping(h, path, "the steady-state hypothesis") {
            return;
        }
        self.keys(
            h,
            path,
            &["title", "probes", "controls"],
            &[Misplaced {
                key: "method",
                hint: "the method belongs at the top level of the experiment, not in the hypothesis; Chaos Toolkit ignores it here",
            }],
            &|_| None,
        );
        if h.get("title")
            .and_then(Node::as_str)
            .is_none_or(str::is_empty)
        {
            self.ctk(line, path, "hypothesis requires a title");
        }
        if let Some(p) = h.get("probes") {
            self.activities(p, &join(path, "probes"), Place::Hypothesis);
        }
    }

    /// A list of activities at `path`.
    fn activities(&mut self, list: &Node, path: &str, place: Place) {
        match &list.value {
            Value::Seq(items) => {
                for (i, a) in items.iter().enumerate() {
                    self.activity(a, &index(path, i), place);
                }
            }
            Value::Null => {}
            _ => self.ours(
                list.line,
                path,
                format!("must be a list of activities, found {}", list.kind()),
            ),
        }
    }

    fn runtime(&mut self, rt: &Node) {
        if !self.mapping(rt, "runtime", "`runtime`") {
            return;
        }
        self.keys(rt, "runtime", &["hypothesis", "rollbacks"], &[], &|_| None);
        for (section, keys, strategies) in [
            (
                "hypothesis",
                &["strategy", "frequency", "fail_fast"][..],
                HYPOTHESIS_STRATEGIES,
            ),
            ("rollbacks", &["strategy"][..], ROLLBACK_STRATEGIES),
        ] {
            let Some(s) = rt.get(section) else { continue };
            let path = join("runtime", section);
            if !self.mapping(s, &path, "a runtime section") {
                continue;
            }
            self.keys(s, &path, keys, &[], &|_| None);
            if let Some(v) = s.get("strategy") {
                if v.as_str().is_none_or(|v| !strategies.contains(&v)) {
                    let near = v
                        .as_str()
                        .and_then(|v| super::keys::near_miss(v, strategies))
                        .map(|k| format!("; did you mean `{k}`?"))
                        .unwrap_or_default();
                    self.ours(
                        v.line,
                        &join(&path, "strategy"),
                        format!(
                            "unknown strategy {}: one of {}{near}",
                            v.to_json(),
                            strategies.join(", ")
                        ),
                    );
                }
            }
            if let Some(f) = s.get("frequency") {
                if !matches!(f.value, Value::Int(n) if n > 0)
                    && !matches!(f.value, Value::Float(x) if x > 0.0)
                {
                    self.ours(
                        f.line,
                        &join(&path, "frequency"),
                        "must be a positive number of seconds",
                    );
                }
            }
            if let Some(f) = s.get("fail_fast") {
                if !matches!(f.value, Value::Bool(_)) {
                    self.ours(f.line, &join(&path, "fail_fast"), "must be true or false");
                }
            }
        }
    }

    /// Every `controls` list: the experiment's, the hypothesis's, and each activity's.
    fn all_controls(&mut self, root: &Node) {
        let mut lists: Vec<(String, &Node)> = Vec::new();
        if let Some(c) = root.get("controls") {
            lists.push(("controls".to_owned(), c));
        }
        if let Some(c) = root
            .get("steady-state-hypothesis")
            .and_then(|h| h.get("controls"))
        {
            lists.push(("steady-state-hypothesis.controls".to_owned(), c));
        }
        for (section, list) in [
            (
                "steady-state-hypothesis.probes",
                root.get("steady-state-hypothesis")
                    .and_then(|h| h.get("probes")),
            ),
            ("method", root.get("method")),
            ("rollbacks", root.get("rollbacks")),
        ] {
            for (i, a) in list.map(Node::items).unwrap_or_default().iter().enumerate() {
                if let Some(c) = a.get("controls") {
                    lists.push((join(&index(section, i), "controls"), c));
                }
            }
        }
        let declared: Vec<String> = lists
            .iter()
            .flat_map(|(_, l)| l.items())
            .filter(|c| c.get("ref").is_none())
            .filter_map(|c| c.get("name").and_then(Node::as_str).map(str::to_owned))
            .collect();
        for (path, list) in lists {
            if !matches!(list.value, Value::Seq(_)) {
                self.ours(
                    list.line,
                    &path,
                    format!("must be a list of controls, found {}", list.kind()),
                );
                continue;
            }
            for (i, c) in list.items().iter().enumerate() {
                let path = index(&path, i);
                if !self.mapping(c, &path, "a control") {
                    continue;
                }
                self.keys(
                    c,
                    &path,
                    &["name", "provider", "scope", "automatic", "ref", "settings"],
                    &[],
                    &|_| None,
                );
                let name = c.get("name").and_then(Node::as_str);
                if let Some(r) = c.get("ref") {
                    if r.as_str().is_none_or(|r| !declared.iter().any(|d| d == r)) {
                        self.ctk(
                            r.line,
                            &join(&path, "ref"),
                            format!(
                                "Control reference {} declaration cannot be found",
                                r.to_json()
                            ),
                        );
                    }
                }
                let Some(name) = name else {
                    self.ctk(c.line, &path, "A control must have a `name` property");
                    continue;
                };
                if c.get("ref").is_some() {
                    continue;
                }
                match c.get("provider") {
                    None => self.ctk(
                        c.line,
                        &path,
                        format!("Control '{name}' must have a `provider` property"),
                    ),
                    Some(p) => {
                        if p.get("type").and_then(Node::as_str) == Some("python")
                            && p.get("module").and_then(Node::as_str).is_none()
                        {
                            self.ctk(
                                p.line,
                                &join(&path, "provider"),
                                format!("Control '{name}' must have a module path"),
                            );
                        }
                    }
                }
                if let Some(s) = c.get("scope") {
                    if !matches!(s.as_str(), Some("before" | "after")) {
                        self.ctk(
                            s.line,
                            &join(&path, "scope"),
                            format!(
                                "Control '{name}' scope property must be 'before' or 'after' only"
                            ),
                        );
                    }
                }
            }
        }
    }
}

//! Activities: their keys, their provider (`http`, `process`, `python` against the functions
//! with a native equivalent), pauses, and the tolerances of probes.

use super::keys::{near_miss, Misplaced};
use super::{join, Checker};
use crate::ctk::doc::{Node, Value};
use crate::ctk::functions;

/// Where an activity is, which decides what it may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// A steady-state probe: needs a tolerance.
    Hypothesis,
    /// The method.
    Method,
    /// The rollbacks.
    Rollback,
    /// A tolerance that is itself a probe.
    Tolerance,
}

const ACTIVITY_KEYS: &[&str] = &[
    "type",
    "name",
    "provider",
    "tolerance",
    "pauses",
    "background",
    "controls",
    "timeout",
];

const HTTP_KEYS: &[&str] = &[
    "type",
    "url",
    "method",
    "headers",
    "arguments",
    "timeout",
    "verify_tls",
    "max_retries",
    "secrets",
];
const PROCESS_KEYS: &[&str] = &["type", "path", "arguments", "timeout", "secrets"];
const PYTHON_KEYS: &[&str] = &["type", "module", "func", "arguments", "secrets"];

/// Keys that belong in the provider, written on the activity.
const PROVIDER_ONLY: &[&str] = &[
    "arguments",
    "secrets",
    "url",
    "path",
    "module",
    "func",
    "headers",
    "method",
];

impl Checker<'_> {
    pub(super) fn activity(&mut self, a: &Node, path: &str, place: Place) {
        if !self.mapping(a, path, "an activity") {
            return;
        }
        if a.entries().is_empty() {
            self.ctk(a.line, path, "empty activity is no activity");
            return;
        }
        if let Some(r) = a.get("ref") {
            // `type` and `name` are often repeated beside a `ref`: harmless, Chaos Toolkit
            // reads the referenced activity's.
            let allowed: &[&str] = if place == Place::Hypothesis {
                &["ref", "tolerance", "type", "name"]
            } else {
                &["ref", "type", "name"]
            };
            self.keys(a, path, allowed, &[], &|_| None);
            match r.as_str() {
                Some(name) if !name.is_empty() => {
                    if !self.refs.iter().any(|n| n == name) {
                        let message = format!(
                            "referenced activity '{name}' could not be found in the experiment"
                        );
                        if place == Place::Method {
                            self.ctk(r.line, &join(path, "ref"), message);
                        } else {
                            self.ours(r.line, &join(path, "ref"), message);
                        }
                    }
                }
                _ => self.ctk(
                    r.line,
                    &join(path, "ref"),
                    "reference to activity must be non-empty strings",
                ),
            }
            if place == Place::Hypothesis {
                match a.get("tolerance") {
                    None => self.ctk(a.line, path, "hypothesis probe must have a tolerance entry"),
                    Some(t) => self.tolerance(t, &join(path, "tolerance")),
                }
            }
            return;
        }
        let provider = a.get("provider");
        let provider_params: Vec<&str> = provider
            .and_then(python_function)
            .map(|f| f.params.iter().map(|p| p.name).collect())
            .unwrap_or_default();
        self.keys(
            a,
            path,
            ACTIVITY_KEYS,
            &[],
            &|key| {
                PROVIDER_ONLY.contains(&key).then(|| {
                    format!(
                        "`{key}` belongs under `provider`: Chaos Toolkit ignores it here, so the provider runs without it"
                    )
                })
                .or_else(|| {
                    provider_params.contains(&key).then(|| {
                        format!(
                            "`{key}` is an argument of the function: put it under `provider.arguments` (Chaos Toolkit ignores it here)"
                        )
                    })
                })
            },
        );
        let kind = a.get("type").and_then(Node::as_str);
        match kind {
            None => self.ctk(a.line, path, "an activity must have a type"),
            Some("probe" | "action") => {}
            Some(other) => self.ctk(
                a.get("type").map_or(a.line, |n| n.line),
                &join(path, "type"),
                format!("'{other}' is not a supported activity type"),
            ),
        }
        let name = a.get("name").and_then(Node::as_str).unwrap_or_default();
        if name.is_empty() {
            self.ctk(a.line, path, "an activity must have a name");
        }
        if let Some(t) = a.get("timeout") {
            if !matches!(t.value, Value::Int(_) | Value::Float(_) | Value::Bool(_)) {
                self.ctk(
                    t.line,
                    &join(path, "timeout"),
                    "activity timeout must be a number",
                );
            }
        }
        if let Some(p) = a.get("pauses") {
            self.pauses(p, &join(path, "pauses"));
        }
        if let Some(b) = a.get("background") {
            if !matches!(b.value, Value::Bool(_)) {
                self.ctk(
                    b.line,
                    &join(path, "background"),
                    "activity background must be a boolean",
                );
            }
        }
        match (place, a.get("tolerance"), kind) {
            (Place::Hypothesis, None, _) => {
                self.ctk(a.line, path, "hypothesis probe must have a tolerance entry")
            }
            (_, Some(t), Some("action")) => self.ours(
                t.line,
                &join(path, "tolerance"),
                "an action has no tolerance (Chaos Toolkit never evaluates it): make it a probe, or remove the tolerance",
            ),
            (_, Some(t), _) => self.tolerance(t, &join(path, "tolerance")),
            _ => {}
        }
        match provider {
            None => self.ctk(a.line, path, "an activity requires a provider"),
            Some(p) => self.provider(
                p,
                &join(path, "provider"),
                name,
                kind.unwrap_or("activity"),
                place,
            ),
        }
    }

    fn pauses(&mut self, p: &Node, path: &str) {
        if !self.mapping(p, path, "`pauses`") {
            return;
        }
        self.keys(p, path, &["before", "after"], &[], &|_| None);
        for when in ["before", "after"] {
            let Some(v) = p.get(when) else { continue };
            let ok = match &v.value {
                Value::Int(n) => *n >= 0,
                Value::Float(x) => *x >= 0.0,
                Value::Null => true,
                Value::Str(s) => s.starts_with("${") && s.ends_with('}'),
                _ => false,
            };
            if !ok {
                let chaos_toolkit = matches!(v.value, Value::Str(_));
                let message = format!(
                    "activity {when} pause must be a number or a pattern to a variable from the configuration or secrets"
                );
                if chaos_toolkit {
                    self.ctk(v.line, &join(path, when), message);
                } else {
                    self.ours(
                        v.line,
                        &join(path, when),
                        format!("{message} (a number of seconds, not negative)"),
                    );
                }
            }
        }
    }

    fn provider(&mut self, p: &Node, path: &str, name: &str, kind: &str, place: Place) {
        if !self.mapping(p, path, "a provider") {
            return;
        }
        if p.entries().is_empty() {
            self.ctk(p.line, path, "an activity requires a provider");
            return;
        }
        let ptype = p.get("type").and_then(Node::as_str);
        match ptype {
            None => self.ctk(p.line, path, "a provider must have a type"),
            Some("http") => self.http(p, path),
            Some("process") => self.process(p, path, name),
            Some("python") => self.python(p, path, name, kind, place),
            Some(other) => self.ctk(
                p.get("type").map_or(p.line, |n| n.line),
                &join(path, "type"),
                format!("unknown provider type '{other}'"),
            ),
        }
        if let Some(s) = p.get("secrets") {
            if !matches!(&s.value, Value::Seq(items) if items.iter().all(|i| i.as_str().is_some()))
            {
                self.ours(
                    s.line,
                    &join(path, "secrets"),
                    "must be a list of secrets scope names",
                );
            }
        }
    }

    fn http(&mut self, p: &Node, path: &str) {
        self.keys(
            p,
            path,
            HTTP_KEYS,
            &[Misplaced {
                key: "expected_status",
                hint: "Chaos Toolkit's http provider has no `expected_status` and ignores it, so any status passes: give the expected status as the probe's `tolerance` (e.g. `tolerance: 200`)",
            }],
            &|_| None,
        );
        if p.get("url")
            .and_then(Node::as_str)
            .is_none_or(str::is_empty)
        {
            self.ctk(p.line, path, "a HTTP activity must have a URL");
        }
        if let Some(h) = p.get("headers") {
            if !matches!(h.value, Value::Map(_) | Value::Null) {
                self.ctk(
                    h.line,
                    &join(path, "headers"),
                    "a HTTP activities expect headers as a mapping",
                );
            }
        }
        if let Some(m) = p.get("method") {
            const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
            if m.as_str()
                .is_none_or(|m| !METHODS.contains(&m.to_ascii_uppercase().as_str()))
            {
                self.ours(
                    m.line,
                    &join(path, "method"),
                    format!(
                        "unknown HTTP method {}: one of {}",
                        m.to_json(),
                        METHODS.join(", ")
                    ),
                );
            }
        }
        if let Some(t) = p.get("timeout") {
            let ok = match &t.value {
                Value::Int(n) => *n > 0,
                Value::Float(x) => *x > 0.0,
                Value::Str(s) => s.starts_with("${") && s.ends_with('}'),
                Value::Seq(pair) => {
                    pair.len() == 2
                        && pair.iter().all(|v| {
                            matches!(v.value, Value::Int(n) if n > 0)
                                || matches!(v.value, Value::Float(x) if x > 0.0)
                        })
                }
                _ => false,
            };
            if !ok {
                self.ours(
                    t.line,
                    &join(path, "timeout"),
                    "must be a positive number of seconds, or a [connect, read] pair of them",
                );
            }
        }
        if let Some(v) = p.get("verify_tls") {
            if !matches!(v.value, Value::Bool(_)) {
                self.ours(v.line, &join(path, "verify_tls"), "must be true or false");
            }
        }
        if let Some(v) = p.get("max_retries") {
            if !matches!(v.value, Value::Int(n) if n >= 0) {
                self.ours(
                    v.line,
                    &join(path, "max_retries"),
                    "must be a whole number, not negative",
                );
            }
        }
    }

    fn process(&mut self, p: &Node, path: &str, name: &str) {
        self.keys(p, path, PROCESS_KEYS, &[], &|_| None);
        match p.get("path").and_then(Node::as_str) {
            None | Some("") => self.ctk(p.line, path, "a process activity must have a path"),
            Some(raw) => {
                if find_program(raw).is_none() {
                    self.ctk(
                        p.get("path").map_or(p.line, |n| n.line),
                        &join(path, "path"),
                        format!("path '{raw}' cannot be found, in activity '{name}'"),
                    );
                }
            }
        }
        if let Some(a) = p.get("arguments") {
            if !matches!(
                a.value,
                Value::Str(_) | Value::Seq(_) | Value::Map(_) | Value::Null
            ) {
                self.ours(
                    a.line,
                    &join(path, "arguments"),
                    format!(
                        "must be a string (run through a shell) or a list, found {}",
                        a.kind()
                    ),
                );
            }
        }
        if let Some(t) = p.get("timeout") {
            if !matches!(t.value, Value::Int(n) if n > 0)
                && !matches!(t.value, Value::Float(x) if x > 0.0)
            {
                self.ours(t.line, &join(path, "timeout"), "must be a positive number of seconds (Chaos Toolkit does not substitute variables here)");
            }
        }
    }

    fn python(&mut self, p: &Node, path: &str, name: &str, kind: &str, place: Place) {
        let function = python_function(p);
        let params: Vec<&str> = function
            .map(|f| f.params.iter().map(|p| p.name).collect())
            .unwrap_or_default();
        self.keys(p, path, PYTHON_KEYS, &[], &|key| {
            params.contains(&key).then(|| {
                format!(
                    "`{key}` is an argument of the function: put it under `arguments` (Chaos Toolkit ignores it here, so the function runs without it)"
                )
            })
        });
        let module = p.get("module").and_then(Node::as_str).unwrap_or_default();
        let func = p.get("func").and_then(Node::as_str).unwrap_or_default();
        if module.is_empty() {
            self.ctk(p.line, path, "a Python activity must have a module path");
            return;
        }
        if func.is_empty() {
            self.ctk(p.line, path, "a Python activity must have a function name");
            return;
        }
        let Some(f) = function else {
            let line = p.get("func").map_or(p.line, |n| n.line);
            if functions::knows_module(module) {
                let names = functions::names_in(module);
                let near = near_miss(func, &names)
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                self.ours(
                    line,
                    &join(path, "func"),
                    format!(
                        "The python module '{module}' does not expose a function called '{func}' in {kind} '{name}' (with a native equivalent here: {}{near})",
                        names.join(", ")
                    ),
                );
            } else {
                self.ours(
                    p.get("module").map_or(p.line, |n| n.line),
                    &join(path, "module"),
                    format!(
                        "Python module `{module}` has no native equivalent here, so `{module}.{func}` cannot run; see README, \"Chaos Toolkit functions\", for the functions that can"
                    ),
                );
            }
            return;
        };
        let args = p.get("arguments");
        if let Some(a) = args {
            if !matches!(a.value, Value::Map(_) | Value::Null) {
                self.ours(
                    a.line,
                    &join(path, "arguments"),
                    format!(
                        "must be a mapping of argument names to values, found {}",
                        a.kind()
                    ),
                );
                return;
            }
        }
        let given = args.map(Node::entries).unwrap_or_default();
        for e in given {
            if !params.contains(&e.key.as_str()) {
                let near = near_miss(&e.key, &params)
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                self.ctk(
                    e.line,
                    &join(&join(path, "arguments"), &e.key),
                    format!(
                        "argument '{}' is not part of the function signature in activity '{}' (its arguments: {}{near})",
                        e.key,
                        f.name,
                        params.join(", ")
                    ),
                );
            }
        }
        for param in f.params.iter().filter(|p| p.required) {
            // A tolerance probe's `value` is the checked probe's value.
            if place == Place::Tolerance && param.name == "value" {
                continue;
            }
            if !given.iter().any(|e| e.key == param.name) {
                self.ctk(
                    args.map_or(p.line, |a| a.line),
                    &join(path, "arguments"),
                    format!(
                        "required argument '{}' is missing from activity '{}'",
                        param.name, f.name
                    ),
                );
            }
        }
    }

    pub(super) fn tolerance(&mut self, t: &Node, path: &str) {
        match &t.value {
            Value::Bool(_) | Value::Int(_) | Value::Str(_) | Value::Seq(_) => {}
            Value::Map(_) => self.tolerance_map(t, path),
            Value::Float(_) | Value::Null => self.ctk(
                t.line,
                path,
                "hypothesis probe tolerance must either be an integer, a string, a boolean or a pair of values for boundaries. It can also be a dictionary which is a probe activity definition that takes an argument called `value` with the value of the probe itself to be validated",
            ),
        }
    }

    fn tolerance_map(&mut self, t: &Node, path: &str) {
        let kind = t.get("type").and_then(Node::as_str);
        match kind {
            Some("probe") => self.activity(t, path, Place::Tolerance),
            Some("regex") => {
                self.keys(t, path, &["type", "pattern", "target"], &[], &|_| None);
                match t.get("pattern") {
                    None => self.ctk(
                        t.line,
                        path,
                        "hypothesis regex probe tolerance must have a `pattern` key",
                    ),
                    Some(p) => {
                        match p.as_str() {
                            None => self.ctk(
                                p.line,
                                &join(path, "pattern"),
                                format!(
                                    "hypothesis probe tolerance pattern {} has an invalid type",
                                    p.to_json()
                                ),
                            ),
                            Some(s) if s.contains("${") => {}
                            Some(s) => {
                                if let Err(e) = regex::Regex::new(s) {
                                    self.ours(p.line, &join(path, "pattern"), format!("hypothesis probe tolerance pattern {s} seems invalid: {e}"));
                                }
                            }
                        }
                    }
                }
            }
            Some("jsonpath") => {
                self.keys(
                    t,
                    path,
                    &["type", "path", "expect", "count", "target"],
                    &[],
                    &|_| None,
                );
                match t.get("path") {
                    None => self.ctk(
                        t.line,
                        path,
                        "hypothesis jsonpath probe tolerance must have a `path` key",
                    ),
                    Some(p) => match p.as_str() {
                        Some(s) if s.trim().is_empty() => self.ctk(
                            p.line,
                            &join(path, "path"),
                            "hypothesis probe tolerance JSON path cannot be empty",
                        ),
                        Some(_) => {}
                        None => self.ctk(
                            p.line,
                            &join(path, "path"),
                            format!(
                                "hypothesis probe tolerance JSON path {} has an invalid type",
                                p.to_json()
                            ),
                        ),
                    },
                }
                if let Some(c) = t.get("count") {
                    if !matches!(c.value, Value::Int(n) if n >= 0) {
                        self.ours(
                            c.line,
                            &join(path, "count"),
                            "must be a whole number, not negative",
                        );
                    }
                }
            }
            Some("range") => {
                self.keys(t, path, &["type", "range", "target"], &[], &|_| None);
                match t.get("range") {
                    None => self.ctk(
                        t.line,
                        path,
                        "hypothesis range probe tolerance must have a `range` key",
                    ),
                    Some(r) => {
                        match &r.value {
                            Value::Seq(bounds) if bounds.len() == 2 => {
                                for (i, which) in [(0, "lower"), (1, "upper")] {
                                    if !matches!(bounds[i].value, Value::Int(_) | Value::Float(_)) {
                                        self.ctk(bounds[i].line, &join(path, "range"), format!("hypothesis range {which} boundary must be a number"));
                                    }
                                }
                            }
                            Value::Seq(_) => self.ctk(
                                r.line,
                                &join(path, "range"),
                                "hypothesis range sequence must be made of two values",
                            ),
                            _ => self.ctk(
                                r.line,
                                &join(path, "range"),
                                "hypothesis range must be a sequence",
                            ),
                        }
                    }
                }
            }
            other => {
                let shown = other.unwrap_or("None");
                let near = other
                    .and_then(|o| near_miss(o, &["probe", "regex", "jsonpath", "range"]))
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                self.ctk(
                    t.line,
                    &join(path, "type"),
                    format!("hypothesis probe tolerance type '{shown}' is unsupported{near}"),
                );
            }
        }
    }
}

/// The function a python provider names, if it has a native equivalent.
fn python_function(p: &Node) -> Option<&'static functions::Function> {
    if p.get("type").and_then(Node::as_str) != Some("python") {
        return None;
    }
    functions::find(
        p.get("module").and_then(Node::as_str)?,
        p.get("func").and_then(Node::as_str)?,
    )
}

/// Where `raw` is found as Chaos Toolkit's `shutil.which` finds it: as given when it holds a
/// `/` (relative to the working directory), else in `$PATH`; an executable file either way.
pub(crate) fn find_program(raw: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if raw.contains('/') {
        let p = std::path::PathBuf::from(raw);
        return runnable(&p).then_some(p);
    }
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join(raw))
        .find(|p| runnable(p))
}

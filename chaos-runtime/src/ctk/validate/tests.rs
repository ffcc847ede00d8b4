use super::{Inputs, Problem};
use crate::ctk::ExperimentFile;
use std::path::Path;

/// The problems of `text` (YAML unless it starts with `{`), with no environment.
fn problems(text: &str) -> Vec<Problem> {
    problems_with(text, &Inputs::default())
}

fn problems_with(text: &str, inputs: &Inputs) -> Vec<Problem> {
    let name = if text.trim_start().starts_with('{') {
        "exp.json"
    } else {
        "exp.yaml"
    };
    let file = ExperimentFile::from_text(Path::new(name), text).expect("loads");
    match file.validate_with(inputs) {
        Ok(()) => Vec::new(),
        Err(e) => e.problems,
    }
}

/// The one problem of `text`: (line, path, message, chaos_toolkit).
fn one(text: &str) -> (usize, String, String, bool) {
    let mut p = problems(text);
    assert_eq!(p.len(), 1, "{p:#?}");
    let p = p.remove(0);
    (p.line, p.path, p.message, p.chaos_toolkit)
}

const HEAD: &str = "title: t\ndescription: d\n";

#[test]
fn a_valid_experiment_has_no_problem() {
    let text = format!(
        "{HEAD}tags: [a, b]\nconfiguration:\n  url: http://x\n  port: {{type: env, key: NOPE, default: '8080', env_var_type: int}}\nsecrets:\n  s:\n    token: abc\nsteady-state-hypothesis:\n  title: up\n  probes:\n  - type: probe\n    name: up\n    tolerance: 200\n    provider: {{type: http, url: 'http://127.0.0.1:1/', timeout: [1, 2], headers: {{a: b}}}}\n  - ref: act\n    tolerance: {{type: regex, pattern: 'ok.*', target: stdout}}\nmethod:\n- type: action\n  name: act\n  provider: {{type: process, path: echo, arguments: [a, b]}}\n  pauses: {{before: 0, after: '${{wait}}'}}\n- type: probe\n  name: pods\n  tolerance: [1, 3]\n  provider:\n    type: python\n    module: chaosk8s.pod.probes\n    func: count_pods\n    arguments: {{label_selector: app=web, ns: demo}}\nrollbacks: []\nruntime:\n  hypothesis: {{strategy: continuously, frequency: 2, fail_fast: true}}\n  rollbacks: {{strategy: always}}\ncontrols:\n- name: c\n  provider: {{type: python, module: chaosaddons.controls.safeguards}}\n"
    );
    assert_eq!(problems(&text), Vec::new());
}

#[test]
fn chaos_toolkits_rules_keep_their_messages_and_all_come_at_once() {
    let p = problems(
        "description: ''\nsteady-state-hypothesis:\n  probes:\n  - type: probe\n    name: x\n    provider: {type: http, url: 'http://x'}\nmethod:\n- name: a\n  provider: {type: http}\n- type: wait\n  name: b\n  provider: {type: ftp}\n- type: action\n  provider: {type: process}\n- ref: nowhere\n",
    );
    let got: Vec<(usize, &str, bool)> = p
        .iter()
        .map(|p| (p.line, p.message.as_str(), p.chaos_toolkit))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "experiment requires a title", true),
            (1, "experiment requires a description", true),
            (2, "hypothesis requires a title", true),
            (4, "hypothesis probe must have a tolerance entry", true),
            (8, "an activity must have a type", true),
            (9, "a HTTP activity must have a URL", true),
            (10, "'wait' is not a supported activity type", true),
            (12, "unknown provider type 'ftp'", true),
            (13, "an activity must have a name", true),
            (14, "a process activity must have a path", true),
            (
                15,
                "referenced activity 'nowhere' could not be found in the experiment",
                true
            ),
        ],
        "{p:#?}"
    );
    assert_eq!(
        one(HEAD).2,
        "an experiment requires a method, which can be empty for only checking steady state hypothesis "
    );
    assert_eq!(one("{}").2, "an empty experiment is not an experiment");
}

#[test]
fn a_misspelled_hypothesis_is_an_error_with_the_valid_keys_and_a_near_miss() {
    let (line, path, message, ctk) = one(&format!(
        "{HEAD}steady - state - hypothesis:\n  title: h\n  probes: []\nmethod: []\n"
    ));
    assert_eq!(
        (line, path.as_str(), ctk),
        (3, "steady - state - hypothesis", false)
    );
    assert!(message.starts_with("unknown key `steady - state - hypothesis`: Chaos Toolkit ignores it without a word; valid keys here: version, title, "), "{message}");
    assert!(
        message.ends_with("; did you mean `steady-state-hypothesis`?"),
        "{message}"
    );
}

#[test]
fn keys_in_the_wrong_place_say_where_they_belong() {
    let text = format!(
        "{HEAD}method:\n- type: action\n  name: drain\n  arguments: {{name: node-1}}\n  provider:\n    type: python\n    module: chaosk8s.node.actions\n    func: drain_nodes\n    count: 1\n- type: probe\n  name: web\n  provider: {{type: http, url: 'http://x', expected_status: 200}}\n  tolerance: 200\nrollback: []\n"
    );
    let p = problems(&text);
    let at = |line: usize| {
        p.iter()
            .find(|p| p.line == line)
            .unwrap_or_else(|| panic!("line {line}: {p:#?}"))
    };
    assert_eq!(at(6).path, "method[0].arguments");
    assert!(at(6).message.contains("belongs under `provider`"), "{p:#?}");
    assert_eq!(at(11).path, "method[0].provider.count");
    assert!(
        at(11).message.contains("put it under `arguments`"),
        "{p:#?}"
    );
    assert_eq!(at(14).path, "method[1].provider.expected_status");
    assert!(
        at(14).message.contains("as the probe's `tolerance`"),
        "{p:#?}"
    );
    assert_eq!(at(16).path, "rollback");
    assert!(
        at(16).message.contains("did you mean `rollbacks`?"),
        "{p:#?}"
    );
    assert_eq!(p.len(), 4, "{p:#?}");
}

#[test]
fn a_key_given_twice_is_an_error_naming_both_lines() {
    let (line, path, message, _) = one(&format!("{HEAD}method: []\nmethod: []\n"));
    assert_eq!((line, path.as_str()), (4, "method"));
    assert!(message.contains("given twice (lines 3 and 4)"), "{message}");
    let json = "{\"title\": \"t\", \"description\": \"d\",\n \"method\": [],\n \"method\": []}";
    assert_eq!(one(json).0, 3);
}

#[test]
fn python_functions_resolve_with_their_arguments_and_deprecated_names() {
    let call = |module: &str, func: &str, args: &str| {
        problems(&format!(
            "{HEAD}method:\n- type: action\n  name: a\n  provider:\n    type: python\n    module: {module}\n    func: {func}\n    arguments: {args}\n"
        ))
    };
    assert_eq!(
        call("chaosk8s.actions", "kill_microservice", "{name: web}"),
        Vec::new()
    );
    assert_eq!(
        call("chaosk8s.probes", "all_pods_healthy", "{ns: demo}"),
        Vec::new()
    );
    assert_eq!(
        call(
            "chaosaws.ec2.actions",
            "stop_instance",
            "{instance_id: i-1, az: us-west-2a}"
        ),
        Vec::new()
    );
    let p = call("chaosk8s.pod.actions", "terminate_pod", "{}");
    assert!(
        p[0].message
            .contains("does not expose a function called 'terminate_pod'"),
        "{p:#?}"
    );
    assert!(
        p[0].message.contains("did you mean `terminate_pods`?"),
        "{p:#?}"
    );
    let p = call("chaosgcp.gke.nodepool.actions", "create_new_nodepool", "{}");
    assert!(
        p[0].message
            .contains("`chaosgcp.gke.nodepool.actions` has no native equivalent here"),
        "{p:#?}"
    );
    assert_eq!(p[0].path, "method[0].provider.module");
    let p = call(
        "chaosk8s.pod.actions",
        "terminate_pods",
        "{label_selecter: app=web}",
    );
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(p[0].message.starts_with("argument 'label_selecter' is not part of the function signature in activity 'terminate_pods'"), "{p:#?}");
    assert!(
        p[0].message.contains("did you mean `label_selector`?"),
        "{p:#?}"
    );
    assert!(p[0].chaos_toolkit);
    let p = call(
        "chaosk8s.deployment.actions",
        "scale_deployment",
        "{name: web}",
    );
    assert_eq!(
        p[0].message,
        "required argument 'replicas' is missing from activity 'scale_deployment'"
    );
}

#[test]
fn tolerances_of_every_kind_are_checked() {
    let probe = |tolerance: &str| {
        problems(&format!(
            "{HEAD}steady-state-hypothesis:\n  title: h\n  probes:\n  - type: probe\n    name: p\n    provider: {{type: http, url: 'http://x'}}\n    tolerance: {tolerance}\nmethod: []\n"
        ))
    };
    for ok in [
        "true",
        "200",
        "'ok'",
        "[200, 204]",
        "{type: range, range: [1, 2.5], target: status}",
        "{type: jsonpath, path: '$.a', expect: 1, count: 2}",
        "{type: regex, pattern: '^ok$'}",
        "{type: probe, name: t, provider: {type: python, module: chaosk8s.pod.probes, func: should_be_found_in_logs, arguments: {pattern: x}}}",
    ] {
        assert_eq!(probe(ok), Vec::new(), "{ok}");
    }
    for (bad, says) in [
        (
            "1.5",
            "hypothesis probe tolerance must either be an integer",
        ),
        (
            "{type: range, range: [1]}",
            "hypothesis range sequence must be made of two values",
        ),
        (
            "{type: range, range: [a, 2]}",
            "hypothesis range lower boundary must be a number",
        ),
        (
            "{type: range}",
            "hypothesis range probe tolerance must have a `range` key",
        ),
        (
            "{type: jsonpath, path: ' '}",
            "hypothesis probe tolerance JSON path cannot be empty",
        ),
        (
            "{type: regex, pattern: '[a'}",
            "hypothesis probe tolerance pattern [a seems invalid",
        ),
        (
            "{type: regexp, pattern: a}",
            "hypothesis probe tolerance type 'regexp' is unsupported (did you mean `regex`?)",
        ),
        (
            "{type: range, range: [1, 2], targte: status}",
            "unknown key `targte`",
        ),
    ] {
        let p = probe(bad);
        assert!(p.iter().any(|p| p.message.contains(says)), "{bad}: {p:#?}");
        assert!(p.iter().all(|p| p.line == 9), "{bad}: {p:#?}");
    }
}

#[test]
fn configuration_and_secrets_from_the_environment_and_what_cannot_run_here() {
    let text = format!(
        "{HEAD}configuration:\n  a: {{type: env, key: CTK_TEST_A}}\n  b: {{type: env, key: CTK_TEST_B, default: x}}\n  c: {{type: probe, name: p}}\n  d: {{type: env, key: CTK_TEST_D, env_var_type: integer}}\nsecrets:\n  k8s:\n    token: {{type: env, key: CTK_TEST_TOKEN}}\n    vaulted: {{type: vault, path: secret/x}}\nmethod: []\n"
    );
    let p = problems(&text);
    let messages: Vec<(usize, &str)> = p.iter().map(|p| (p.line, p.message.as_str())).collect();
    assert_eq!(
        messages,
        vec![
            (4, "Configuration makes reference to an environment key that does not exist: CTK_TEST_A"),
            (6, "dynamic configuration (an activity run to compute the value) cannot run here: give the value, or an `env` value"),
            (7, "Configuration makes reference to an environment key that does not exist: CTK_TEST_D"),
            (10, "Secrets make reference to an environment key that does not exist: CTK_TEST_TOKEN"),
            (11, "Vault secrets cannot be read here: give the secret inline or from the environment (`type: env`)"),
        ],
        "{p:#?}"
    );
    // From a manifest's environment, or replaced by a --var.
    let mut inputs = Inputs::default();
    inputs.env.insert("CTK_TEST_A".into(), "1".into());
    inputs.env.insert("CTK_TEST_TOKEN".into(), "t".into());
    inputs.vars.insert("d".into(), serde_json::json!(3));
    let p = problems_with(&text, &inputs);
    assert_eq!(p.len(), 2, "{p:#?}");
}

#[test]
fn runtime_strategies_pauses_and_controls() {
    let p = problems(&format!(
        "{HEAD}method:\n- type: action\n  name: a\n  provider: {{type: process, path: true}}\n  pauses: {{before: soon, after: -1}}\n  background: 'yes'\nruntime:\n  hypothesis: {{strategy: continuous}}\n  rollbacks: {{strategy: sometimes}}\ncontrols:\n- name: c\n  scope: during\n  provider: {{type: python, module: m}}\n- ref: missing\n  name: r\n"
    ));
    let messages: Vec<(usize, String)> = p.iter().map(|p| (p.line, p.message.clone())).collect();
    let has = |line: usize, part: &str| {
        assert!(
            messages.iter().any(|(l, m)| *l == line && m.contains(part)),
            "line {line}, {part}: {messages:#?}"
        )
    };
    has(
        7,
        "activity before pause must be a number or a pattern to a variable",
    );
    has(7, "activity after pause must be a number");
    has(8, "activity background must be a boolean");
    has(
        10,
        "unknown strategy \"continuous\": one of default, before-method-only",
    );
    has(10, "did you mean `continuously`?");
    has(11, "unknown strategy \"sometimes\"");
    has(
        14,
        "Control 'c' scope property must be 'before' or 'after' only",
    );
    has(
        16,
        "Control reference \"missing\" declaration cannot be found",
    );
    assert_eq!(p.len(), 8, "{p:#?}");
}

#[test]
fn a_process_path_must_be_found_as_chaos_toolkit_finds_it() {
    let (line, path, message, ctk) = one(&format!(
        "{HEAD}method:\n- type: action\n  name: run-it\n  provider: {{type: process, path: no-such-program-here}}\n"
    ));
    assert_eq!(
        (line, path.as_str(), ctk),
        (6, "method[0].provider.path", true)
    );
    assert_eq!(
        message,
        "path 'no-such-program-here' cannot be found, in activity 'run-it'"
    );
}

#[test]
fn the_error_names_the_file_and_every_problem_with_its_line() {
    let file =
        ExperimentFile::from_text(Path::new("exp.yaml"), "title: t\nmethod: 1\n").expect("loads");
    let e = file.validate_with(&Inputs::default()).expect_err("invalid");
    assert_eq!(
        e.to_string(),
        "exp.yaml: not a valid Chaos Toolkit experiment (2 problems):\n  line 1: description: experiment requires a description\n  line 2: method: must be a list of activities, found an integer"
    );
}

#[test]
fn lenient_keys_turn_what_chaos_toolkit_ignores_into_warnings_only() {
    let text = format!(
        "{HEAD}steady - state - hypothesis: {{}}\nmethod:\n- type: action\n  name: a\n  provider: {{type: process, path: 'true', expected: 1}}\nmethod: []\nsecrets: {{s: {{k: {{type: vault, path: x}}}}}}\n"
    );
    let strict = problems(&text);
    // The first `method` is dropped (as Chaos Toolkit drops it): its keys are not checked.
    assert_eq!(
        strict.iter().filter(|p| p.ignored_key).count(),
        2,
        "{strict:#?}"
    );
    let lenient = problems_with(
        &text,
        &Inputs {
            lenient_keys: true,
            ..Inputs::default()
        },
    );
    // What cannot run here stays an error.
    assert_eq!(lenient.len(), 1, "{lenient:#?}");
    assert!(lenient[0]
        .message
        .starts_with("Vault secrets cannot be read here"));
}

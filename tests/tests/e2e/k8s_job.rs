//! The harness as a Kubernetes Job, on the simulated cluster: the manifests `--k8s-manifests`
//! renders for the example experiments, applied with kubectl and read back; their RBAC against
//! what the examples do (the simulated cluster's request log); and a harness run as a pod
//! runs it (service-account token and CA, `KUBERNETES_SERVICE_HOST`/`PORT`, HTTPS), leaving
//! its verdict as a result ConfigMap and an Event on the Job.

use super::nextest::{cargo, features};
use chaos_test_support::tls_forward::TlsForward;
use kube_sim::{RequestRecord, Sim, SimConfig};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// The examples' Kubernetes harness binary (`examples/tests/k8s.rs`), built once.
fn examples_k8s() -> PathBuf {
    static EXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(|| {
        let out = cargo()
            .args(["test", "-p", "chaos-examples", "--test", "k8s", "--no-run"])
            .args(features())
            .args(["--message-format", "json"])
            .output()
            .expect("cargo builds the examples");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "k8s")
            .and_then(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("the k8s test binary")
    })
    .clone()
}

/// A simulated cluster seeded with the demo and namespace `chaos`, with a kubeconfig and a
/// `chaos.toml` naming it.
struct Cluster {
    sim: Sim,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Cluster {
        let sim = Sim::start(SimConfig::default()).expect("the simulated cluster starts");
        sim.seed_demo();
        sim.add_namespace("chaos");
        let dir = tempfile::tempdir().expect("tempdir");
        sim.write_kubeconfig(&dir.path().join("kubeconfig"), "demo")
            .expect("kubeconfig");
        std::fs::write(
            dir.path().join("chaos.toml"),
            format!(
                "[targets.k8s]\nkubeconfig = {:?}\nnamespace = \"demo\"\n",
                dir.path().join("kubeconfig").display().to_string()
            ),
        )
        .expect("settings");
        Cluster { sim, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The examples' harness with this cluster's settings and fresh journal, lock and
    /// history places.
    fn harness(&self) -> Command {
        let mut c = Command::new(examples_k8s());
        c.env("CHAOS_SETTINGS", self.path("chaos.toml"))
            .env("CHAOS_JOURNAL_DIR", self.path("journals"))
            .env("CHAOS_LOCK_DIR", self.path("locks"))
            .env("CHAOS_HISTORY", "off")
            .env_remove("NEXTEST_RUN_ID")
            .env_remove("CHAOS_SEED");
        c
    }

    /// The manifests the examples' harness renders with `extra` flags.
    fn manifests(&self, extra: &[&str]) -> String {
        let out = self
            .harness()
            .args([
                "--k8s-manifests",
                "--image",
                "registry.example/shop-chaos:1.4",
            ])
            .args(extra)
            .output()
            .expect("the harness renders");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    }
}

/// The YAML stream as JSON documents (read by yaml-rust2, not by the code that wrote it).
pub(crate) fn docs(yaml: &str) -> Vec<Value> {
    fn json(y: &yaml_rust2::Yaml) -> Value {
        use yaml_rust2::Yaml;
        match y {
            Yaml::String(s) => Value::String(s.clone()),
            Yaml::Integer(i) => Value::from(*i),
            Yaml::Real(r) => r.parse::<f64>().map_or(Value::Null, Value::from),
            Yaml::Boolean(b) => Value::Bool(*b),
            Yaml::Array(a) => Value::Array(a.iter().map(json).collect()),
            Yaml::Hash(h) => Value::Object(
                h.iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), json(v)))
                    .collect(),
            ),
            _ => Value::Null,
        }
    }
    yaml_rust2::YamlLoader::load_from_str(yaml)
        .expect("YAML")
        .iter()
        .map(json)
        .collect()
}

fn kubectl() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join("kubectl"))
        .find(|p| p.is_file());
    if found.is_none() {
        assert_eq!(
            std::env::var("CHAOS_SKIP_KUBECTL").as_deref(),
            Ok("1"),
            "kubectl is not on PATH: install it, or set CHAOS_SKIP_KUBECTL=1 to skip this test"
        );
    }
    found
}

fn run_kubectl(kubectl: &Path, c: &Cluster, args: &[&str]) -> String {
    let out = Command::new(kubectl)
        .env("HOME", c.path("home"))
        .arg("--kubeconfig")
        .arg(c.path("kubeconfig"))
        .args(args)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn the_job_manifests_apply_with_kubectl_and_read_back() {
    let Some(kubectl) = kubectl() else { return };
    let c = Cluster::start();
    let yaml = c.manifests(&[]);
    std::fs::write(c.path("job.yaml"), &yaml).expect("manifests written");
    let applied = run_kubectl(
        &kubectl,
        &c,
        &[
            "apply",
            "--validate=false",
            "-f",
            &c.path("job.yaml").display().to_string(),
        ],
    );
    let rendered = docs(&yaml);
    let kinds: Vec<&str> = rendered
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "Role",
            "RoleBinding",
            "ClusterRole",
            "ClusterRoleBinding",
            "ConfigMap",
            "Job"
        ],
        "{yaml}"
    );
    for d in &rendered {
        let line = format!(
            "{}/{} created",
            d["kind"].as_str().unwrap().to_ascii_lowercase(),
            d["metadata"]["name"].as_str().unwrap()
        );
        let line = line
            .replace(
                "clusterrolebinding/",
                "clusterrolebinding.rbac.authorization.k8s.io/",
            )
            .replace("clusterrole/", "clusterrole.rbac.authorization.k8s.io/")
            .replace("rolebinding/", "rolebinding.rbac.authorization.k8s.io/")
            .replace("role/", "role.rbac.authorization.k8s.io/")
            .replace("job/", "job.batch/");
        assert!(applied.contains(&line), "{line} not in:\n{applied}");
    }
    // Read back: what the cluster holds is what was rendered.
    let job: Value = serde_json::from_str(&run_kubectl(
        &kubectl,
        &c,
        &["get", "job", "chaos-k8s", "-n", "chaos", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(job["spec"]["backoffLimit"], 0);
    assert_eq!(job["spec"]["activeDeadlineSeconds"], 3600);
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["serviceAccountName"], "chaos-k8s");
    assert_eq!(
        pod["containers"][0]["image"],
        "registry.example/shop-chaos:1.4"
    );
    assert_eq!(pod["containers"][0]["command"][0], "/usr/local/bin/k8s");
    let role: Value = serde_json::from_str(&run_kubectl(
        &kubectl,
        &c,
        &["get", "role", "chaos-k8s", "-n", "demo", "-o", "json"],
    ))
    .unwrap();
    let rendered_role = rendered
        .iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["namespace"] == "demo")
        .unwrap();
    assert_eq!(role["rules"], rendered_role["rules"]);
    let cm: Value = serde_json::from_str(&run_kubectl(
        &kubectl,
        &c,
        &[
            "get",
            "configmap",
            "chaos-k8s-settings",
            "-n",
            "chaos",
            "-o",
            "json",
        ],
    ))
    .unwrap();
    let toml_text = cm["data"]["chaos.toml"].as_str().unwrap();
    assert!(
        toml_text.contains("in_cluster = true") && !toml_text.contains("kubeconfig"),
        "{toml_text}"
    );
    // No wildcard anywhere.
    for d in &rendered {
        for rule in d["rules"].as_array().into_iter().flatten() {
            for key in ["apiGroups", "resources", "verbs"] {
                assert!(
                    !rule[key].as_array().unwrap().iter().any(|v| v == "*"),
                    "{rule}"
                );
            }
        }
    }
    // Applied again: nothing to create.
    let again = run_kubectl(
        &kubectl,
        &c,
        &[
            "apply",
            "--validate=false",
            "-f",
            &c.path("job.yaml").display().to_string(),
        ],
    );
    assert!(!again.contains(" created"), "{again}");

    // The CronJob variant, and an Indexed Job of three shards.
    let cron = docs(&c.manifests(&[
        "--schedule",
        "30 10 * * 1-5",
        "--time-zone",
        "Europe/Paris",
        "--name",
        "chaos-weekdays",
    ]));
    let cj = cron
        .iter()
        .find(|d| d["kind"] == "CronJob")
        .expect("a CronJob");
    assert_eq!(
        (
            cj["spec"]["schedule"].as_str(),
            cj["spec"]["timeZone"].as_str()
        ),
        (Some("30 10 * * 1-5"), Some("Europe/Paris"))
    );
    assert_eq!(cj["spec"]["concurrencyPolicy"], "Forbid");
    assert_eq!(cj["spec"]["jobTemplate"]["spec"]["backoffLimit"], 0);
    let sharded = docs(&c.manifests(&["--shards", "3"]));
    let job = sharded.iter().find(|d| d["kind"] == "Job").unwrap();
    assert_eq!(
        (
            job["spec"]["completionMode"].as_str(),
            job["spec"]["completions"].as_u64()
        ),
        (Some("Indexed"), Some(3))
    );
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["args"],
        serde_json::json!(["--partition", "index:$(JOB_COMPLETION_INDEX)/3"])
    );
}

/// A request as an RBAC check sees it: (namespace or "" for cluster-wide, group, resource
/// with subresource, verb); `None` for non-resource paths (discovery, version).
pub(crate) fn access(r: &RequestRecord) -> Option<(String, String, String, String)> {
    let parts: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
    let (group, rest) = match parts.as_slice() {
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", g, _v, rest @ ..] => (*g, rest),
        _ => return None,
    };
    let (ns, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (*ns, rest),
        rest => ("", rest),
    };
    let (resource, named) = match rest {
        [res] => (res.to_string(), false),
        [res, _name] => (res.to_string(), true),
        [res, _name, sub] => (format!("{res}/{sub}"), true),
        _ => return None,
    };
    let verb = match (r.method.as_str(), named) {
        ("GET", false) if r.query.contains("watch=") => "watch",
        ("GET", false) => "list",
        ("GET", true) => "get",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => return None,
    };
    Some((ns.to_owned(), group.to_owned(), resource, verb.to_owned()))
}

/// What the rendered Roles and ClusterRole grant, as (namespace or "", group, resource, verb).
fn grants(docs: &[Value]) -> BTreeSet<(String, String, String, String)> {
    let mut out = BTreeSet::new();
    for d in docs {
        let ns = match d["kind"].as_str() {
            Some("Role") => d["metadata"]["namespace"].as_str().unwrap().to_owned(),
            Some("ClusterRole") => String::new(),
            _ => continue,
        };
        for rule in d["rules"].as_array().unwrap() {
            for g in rule["apiGroups"].as_array().unwrap() {
                for r in rule["resources"].as_array().unwrap() {
                    for v in rule["verbs"].as_array().unwrap() {
                        out.insert((
                            ns.clone(),
                            g.as_str().unwrap().into(),
                            r.as_str().unwrap().into(),
                            v.as_str().unwrap().into(),
                        ));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_rbac_allows_what_the_examples_do_and_nothing_else() {
    let c = Cluster::start();
    let out = c
        .harness()
        .args(["--test-threads", "1"])
        .output()
        .expect("the examples run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let rendered = docs(&c.manifests(&[]));
    let granted = grants(&rendered);
    let used: BTreeSet<_> = c.sim.requests().iter().filter_map(access).collect();
    // Everything the examples did is allowed: by a Role in its namespace, or the ClusterRole.
    for (ns, g, r, v) in &used {
        let allowed = granted.contains(&(ns.clone(), g.clone(), r.clone(), v.clone()))
            || granted.contains(&(String::new(), g.clone(), r.clone(), v.clone()));
        assert!(
            allowed,
            "{v} {g}/{r} in {ns:?} is not granted: {granted:#?}"
        );
    }
    // And nothing else is granted, but what the Job's own results need in its namespace
    // (checked by the in-cluster run below).
    let own: BTreeSet<_> = [
        ("chaos", "", "configmaps", "create"),
        ("chaos", "", "configmaps", "get"),
        ("chaos", "", "configmaps", "update"),
        ("chaos", "events.k8s.io", "events", "create"),
    ]
    .iter()
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
    .collect();
    // A ClusterRole's grant is used by a request in any namespace.
    let is_used = |(ns, g, r, v): &(String, String, String, String)| {
        used.iter()
            .any(|(uns, ug, ur, uv)| (ns.is_empty() || ns == uns) && g == ug && r == ur && v == uv)
    };
    let unused: Vec<_> = granted
        .iter()
        .filter(|g| !is_used(g) && !own.contains(*g))
        .collect();
    assert!(
        unused.is_empty(),
        "granted and never used: {unused:#?}\nused: {used:#?}"
    );
    // The figures README gives.
    let rules: usize = rendered
        .iter()
        .map(|d| d["rules"].as_array().map_or(0, Vec::len))
        .sum();
    eprintln!(
        "RBAC for the examples: {} manifests, {rules} rules, {} verbs granted",
        rendered.len(),
        granted.len()
    );
    assert_eq!((rendered.len(), rules, granted.len()), (9, 8, 12));
}

/// A TLS front for the simulated cluster with a CA of its own, and a service account
/// directory (token, `ca.crt`, `namespace`) as Kubernetes mounts it in a pod.
fn pod_environment(c: &Cluster) -> (TlsForward, PathBuf) {
    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("a certificate");
    let key =
        tokio_rustls::rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der())
            .expect("a key");
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .expect("the certificate");
    let front = TlsForward::start(
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        ([127, 0, 0, 1], c.sim.port()).into(),
    );
    let sa = c.path("serviceaccount");
    std::fs::create_dir_all(&sa).expect("sa dir");
    std::fs::write(sa.join("token"), "sa-token-for-chaos-k8s").expect("token");
    std::fs::write(sa.join("ca.crt"), cert.cert.pem()).expect("ca");
    std::fs::write(sa.join("namespace"), "chaos").expect("namespace");
    (front, sa)
}

/// The two pods of an Indexed Job of two shards, run at once as the Job's pods would be.
#[test]
fn in_pods_the_harness_leaves_its_verdicts_in_the_cluster() {
    let c = Cluster::start();
    let (front, sa) = pod_environment(&c);
    // The settings the pods read: the ConfigMap the manifests hold.
    let rendered = docs(&c.manifests(&["--shards", "2"]));
    let cm = rendered.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    std::fs::write(
        c.path("pod.toml"),
        cm["data"]["chaos.toml"].as_str().unwrap(),
    )
    .unwrap();
    let job = rendered.iter().find(|d| d["kind"] == "Job").unwrap();
    let args: Vec<String> = job["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    let pods: Vec<_> = (0..2)
        .map(|index| {
            // Kubernetes expands $(JOB_COMPLETION_INDEX) from the pod's environment.
            let args: Vec<String> = args
                .iter()
                .map(|a| a.replace("$(JOB_COMPLETION_INDEX)", &index.to_string()))
                .collect();
            c.harness()
                .env("CHAOS_SETTINGS", c.path("pod.toml"))
                .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
                .env("KUBERNETES_SERVICE_PORT", front.port().to_string())
                .env("CHAOS_K8S_SERVICE_ACCOUNT_DIR", &sa)
                .env("CHAOS_K8S_JOB", "chaos-k8s")
                .env("CHAOS_K8S_JOB_UID", "0b9e6d4e-job-uid")
                .env("CHAOS_K8S_NAMESPACE", "chaos")
                .env("CHAOS_K8S_POD", format!("chaos-k8s-{index}-7xk2p"))
                .env("CHAOS_HTML", "off")
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .args(&args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the harness starts")
        })
        .collect();
    let mut ran: Vec<Vec<String>> = Vec::new();
    for pod in pods {
        let out = pod.wait_with_output().expect("the harness ends");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ran.push(
            stdout
                .lines()
                .filter_map(|l| l.strip_prefix("test "))
                .filter_map(|l| l.split_whitespace().next())
                .filter(|name| name.contains("::"))
                .map(str::to_owned)
                .collect(),
        );
    }
    // The two shards ran the five experiments between them, each once.
    assert_eq!((ran[0].len(), ran[1].len()), (3, 2), "{ran:?}");
    let mut all: Vec<&String> = ran.iter().flatten().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 5, "{ran:?}");
    // They talked to the API server with the service account's token, over TLS.
    let requests = c.sim.requests();
    assert!(requests
        .iter()
        .any(|r| r.method == "DELETE" && r.path.starts_with("/api/v1/namespaces/demo/pods/")));
    assert!(
        requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer sa-token-for-chaos-k8s")),
        "{requests:#?}"
    );
    // A result ConfigMap per run: owned by the Job, labelled, with the outcome and the journal.
    let results: Vec<Value> = c
        .sim
        .list("configmaps", "chaos")
        .into_iter()
        .filter(|m| m["data"]["journal.json"].is_string())
        .collect();
    assert_eq!(results.len(), 5, "{results:#?}");
    let kill = results
        .iter()
        .find(|r| r["data"]["experiment"] == "k8s::kill_pods_with_label")
        .expect("the kill-pods result");
    assert_eq!(kill["data"]["outcome"], "passed");
    assert_eq!(
        kill["metadata"]["labels"]["chaos-harness.dev/job"],
        "chaos-k8s"
    );
    assert_eq!(
        kill["metadata"]["labels"]["chaos-harness.dev/outcome"],
        "passed"
    );
    assert_eq!(
        kill["metadata"]["ownerReferences"][0]["uid"],
        "0b9e6d4e-job-uid"
    );
    let journal: Value =
        serde_json::from_str(kill["data"]["journal.json"].as_str().unwrap()).expect("the journal");
    assert_eq!(journal["outcome"], "passed");
    // The summary both pods added to: one line per experiment, none lost.
    let summary = c
        .sim
        .get("configmaps", "chaos", "chaos-k8s-summary")
        .expect("the summary");
    let lines = summary["data"].as_object().expect("summary data");
    assert_eq!(lines.len(), 5, "{summary:#}");
    let line = lines["k8s__kill_pods_with_label"].as_str().unwrap();
    let name = kill["metadata"]["name"].as_str().unwrap();
    assert!(
        line.starts_with(&format!("passed (configmap/{name}, pod chaos-k8s-")),
        "{line}"
    );
    // An Event on the Job per run, naming the verdict and the result.
    let events = c.sim.events("chaos");
    let verdicts: Vec<&Value> = events
        .iter()
        .filter(|e| e["regarding"]["kind"] == "Job")
        .collect();
    assert_eq!(verdicts.len(), 5);
    let v = verdicts
        .iter()
        .find(|e| {
            e["note"]
                .as_str()
                .unwrap()
                .contains("k8s::kill_pods_with_label")
        })
        .unwrap();
    assert_eq!(
        (
            v["regarding"]["name"].as_str(),
            v["reason"].as_str(),
            v["type"].as_str()
        ),
        (Some("chaos-k8s"), Some("ChaosPassed"), Some("Normal"))
    );
    assert!(
        v["note"]
            .as_str()
            .unwrap()
            .ends_with(&format!("(result: configmap/{name})")),
        "{v}"
    );
    // And the experiments' own Events where they acted.
    assert!(c
        .sim
        .events("demo")
        .iter()
        .any(|e| e["reason"] == "ChaosPodsTerminated"));
    // Every request was one the rendered RBAC grants, and the Job's own grants were used.
    let granted = grants(&rendered);
    let used: BTreeSet<_> = requests.iter().filter_map(access).collect();
    for (ns, g, res, v) in &used {
        assert!(
            granted.contains(&(ns.clone(), g.clone(), res.clone(), v.clone()))
                || granted.contains(&(String::new(), g.clone(), res.clone(), v.clone())),
            "{v} {g}/{res} in {ns:?} is not granted"
        );
    }
    for verb in ["create", "get", "update"] {
        assert!(
            used.contains(&("chaos".into(), "".into(), "configmaps".into(), verb.into())),
            "configmaps {verb}: {used:#?}"
        );
    }
}

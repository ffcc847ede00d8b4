//! The Kubernetes target through the harness (`src/bin/k8s-fixtures.rs` as a subprocess, each
//! experiment against a simulated cluster of its own): the chosen pods in the journal, the same
//! choice when `CHAOS_SEED` replays a run, an API error as the activity's failure, and which
//! cluster a run reaches (settings, the harness's fallback, `$KUBECONFIG`).

use chaos_tests::{run_exact, RunResult};

const EXE: &str = env!("CARGO_BIN_EXE_k8s-fixtures");

fn run(name: &str, env: &[(&str, &str)]) -> RunResult {
    let tmp = tempfile::tempdir().expect("tempdir").keep();
    run_exact(EXE, &tmp, &format!("k8s_fixtures::{name}"), env)
}

#[test]
fn chosen_pods_are_in_the_journal_and_a_seed_replays_them() {
    let first = run("terminate_one", &[("CHAOS_SEED", "424242")]);
    assert_eq!(first.code, Some(0), "{}", first.all_output());
    let j = first.journal("k8s_fixtures::terminate_one");
    let target = &j["targets"][0];
    assert_eq!(target["target"], "k8s-pods", "{j:#}");
    assert_eq!(target["namespace"], "demo");
    assert_eq!(target["label_selector"], "app=web");
    assert_eq!(target["matched"], 3);
    assert_eq!(target["choice"], "random 1");
    let chosen = target["chosen"].clone();
    assert_eq!(chosen.as_array().map(Vec::len), Some(1));
    assert_eq!(j["run"][0]["output"]["targets"], chosen, "{j:#}");
    assert_eq!(j["seed"], 424242);

    // The simulated cluster names its pods at random, so the replay is checked by position
    // among the matching pods sorted by name: the one the seed's generator draws first.
    let expected = chaos_harness::SeededRng::new(424242).choose_indices(3, 1)[0];
    for run in [first, run("terminate_one", &[("CHAOS_SEED", "424242")])] {
        let j = run.journal("k8s_fixtures::terminate_one");
        assert_eq!(j["run"][0]["output"]["index"], expected, "{j:#}");
    }
}

#[test]
fn an_api_error_fails_the_activity_with_its_reason() {
    let r = run("missing_deployment", &[]);
    assert_eq!(r.code, Some(12), "activity-failed: {}", r.all_output());
    let j = r.journal("k8s_fixtures::missing_deployment");
    assert_eq!(j["outcome"], "activity-failed");
    let error = j["run"][0]["exception"][0].as_str().unwrap_or_default();
    assert!(
        error.contains("Kubernetes get deployment demo/nope failed: NotFound (404)"),
        "{j:#}"
    );
    assert!(r.stdout.contains("NotFound (404)"), "{}", r.stdout);
}

#[test]
fn which_cluster_settings_then_fallback_then_kubeconfig() {
    use kube_sim::{Sim, SimConfig};
    let sim = Sim::start(SimConfig::default()).expect("simulated cluster");
    sim.seed_demo();
    sim.add_pods("demo", "marker", 7, &[("app", "marker")]);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig, "demo")
        .expect("kubeconfig");
    let kc = kubeconfig.to_str().expect("utf-8 path");
    let markers = |env: &[(&str, &str)]| {
        let r = run("count_markers", env);
        assert_eq!(r.code, Some(0), "{}", r.all_output());
        r.journal("k8s_fixtures::count_markers")["run"][0]["output"].clone()
    };
    // A harness without a fallback uses $KUBECONFIG.
    assert_eq!(
        markers(&[("KUBECONFIG", kc), ("K8S_FIXTURES_NO_FALLBACK", "1")]),
        7
    );
    // With a fallback (the examples' simulated cluster), a shell's $KUBECONFIG is not enough
    // to reach a real cluster by accident...
    assert_eq!(markers(&[("KUBECONFIG", kc)]), 0);
    // ...the settings must name it.
    let settings = dir.path().join("chaos.toml");
    std::fs::write(&settings, format!("[targets.k8s]\nkubeconfig = {kc:?}\n")).expect("settings");
    let settings = settings.to_str().expect("utf-8 path");
    assert_eq!(markers(&[("CHAOS_SETTINGS", settings)]), 7);
}

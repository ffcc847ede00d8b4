//! Bad input: each error names the proxy, the toxic and the field.

use super::support::echo;
use crate::target::proxy::{HttpFault, Proxy, Toxic};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn an_upstream_that_does_not_resolve_is_named() {
    let err = Proxy::listen("db", "no-such-host.invalid:5432")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("proxy `db`: upstream `no-such-host.invalid:5432` does not resolve: "),
        "{msg}"
    );
    let err = Proxy::listen("db", "missing-port").await.unwrap_err();
    assert!(err.to_string().contains("upstream `missing-port`"), "{err}");
}

#[tokio::test]
async fn a_name_used_twice_is_refused_and_the_first_stays() {
    let proxy = Proxy::listen("db", echo().await.to_string()).await.unwrap();
    let _g = proxy
        .apply(Toxic::latency(Duration::from_millis(5)))
        .unwrap();
    let err = proxy
        .apply(Toxic::latency(Duration::from_millis(9)))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "proxy `db`, toxic `latency_downstream`: a toxic of this name already exists on the proxy"
    );
    assert_eq!(proxy.toxics().len(), 1);
    let err = proxy.remove("nope").unwrap_err();
    assert_eq!(
        err.to_string(),
        "proxy `db`, toxic `nope`: no such toxic on the proxy"
    );
}

#[tokio::test]
async fn bad_values_name_the_field() {
    let proxy = Proxy::listen("db", echo().await.to_string()).await.unwrap();
    let cases: Vec<(Result<_, _>, &str)> = vec![
        (
            proxy.apply(Toxic::latency(Duration::ZERO).toxicity(-0.1)),
            "proxy `db`, toxic `latency_downstream`: `toxicity` must be in 0..=1 (got -0.1)",
        ),
        (
            proxy.apply(Toxic::slicer(10, 10, Duration::ZERO)),
            "proxy `db`, toxic `slicer_downstream`: `size_variation` must be below average_size (10) (got 10)",
        ),
        (
            proxy.apply(Toxic::timeout(Duration::ZERO).shared()),
            "proxy `db`, toxic `timeout_downstream`: `shared` does not apply to a `timeout` toxic",
        ),
        (
            proxy.apply(Toxic::down().named(" ")),
            "proxy `db`, toxic ` `: `name` must not be empty",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got.unwrap_err().to_string(), want);
    }
    let http = Proxy::builder("web", echo().await.to_string())
        .http()
        .start()
        .await
        .unwrap();
    let err = http.apply(HttpFault::status(42)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "proxy `web`, toxic `http_status`: `status` must be an HTTP status, 100..=999 (got 42)"
    );
    let err = http.apply(HttpFault::abort().path("api")).unwrap_err();
    assert!(
        err.to_string().contains("`path` must start with `/`"),
        "{err}"
    );
    let err = proxy
        .update("latency_downstream", &json!({"attributes": {"latency": 1}}))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "proxy `db`, toxic `latency_downstream`: no such toxic on the proxy"
    );
    let _g = proxy
        .apply(Toxic::latency(Duration::from_millis(1)))
        .unwrap();
    let err = proxy
        .update(
            "latency_downstream",
            &json!({"attributes": {"latency": -3}}),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "proxy `db`, toxic `latency_downstream`: `latency` must not be negative (got -3)"
    );
}

#[tokio::test]
async fn a_listen_address_in_use_is_named() {
    let proxy = Proxy::listen("a", echo().await.to_string()).await.unwrap();
    let err = Proxy::builder("b", echo().await.to_string())
        .listen_on(proxy.addr().to_string())
        .start()
        .await;
    // SO_REUSEADDR does not allow two listeners on one port.
    let msg = err.unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("proxy `b`: cannot listen on `{}`", proxy.addr())),
        "{msg}"
    );
}

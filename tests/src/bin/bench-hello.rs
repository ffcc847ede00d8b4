//! The hello-world experiment alone, as one harness process, for benchmark figure 2
//! (`cargo bench -p chaos-tests --bench hello`). The driver starts a local HTTP server and passes
//! its URL in `service_url`.

use chaos_harness::prelude::*;

/// The hello-world experiment: the service answers 200 while we echo.
#[experiment(
    title = "hello world: the service stays up while we echo",
    tags = ["hello"],
)]
async fn hello_world(cx: &Context) {
    steady_state! {
        probe "service answers 200" [timeout = 3s] {
            http::get(cx.var("service_url")?).await?.status()
        } => == 200;
    }
    method! {
        action "say hello" { process::run("echo").arg("hello").check().await? };
    }
}

chaos_harness::main!();

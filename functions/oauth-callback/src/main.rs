//! oauth-callback Lambda: the Lightspeed OAuth redirect target.

use tillbridge::lambda_http::{run, service_fn};
use tillbridge::{handlers, telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), tillbridge::lambda_runtime::Error> {
    telemetry::init();
    // Built now so a misconfigured deployment fails at init, not on the first callback.
    let _deps = Deps::from_env().await?;
    run(service_fn(|event| {
        handlers::pending::http("oauth-callback", event)
    }))
    .await
}

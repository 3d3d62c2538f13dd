//! migration-worker Lambda: one business day of a 90-day migration per message.

use tillbridge::lambda_runtime::{run, service_fn};
use tillbridge::{handlers, telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), tillbridge::lambda_runtime::Error> {
    telemetry::init();
    // Built now so a misconfigured deployment fails at init, not on the first event.
    let _deps = Deps::from_env().await?;
    run(service_fn(|event| {
        handlers::pending::records("migration-worker", event)
    }))
    .await
}

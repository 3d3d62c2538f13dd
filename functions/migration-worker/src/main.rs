//! migration-worker Lambda: one business day of a 90-day migration per message.

use tillbridge::lambda_runtime::{run, service_fn};
use tillbridge::{handlers, telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), tillbridge::lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_env().await?;
    let deps = &deps;
    run(service_fn(move |event| async move {
        handlers::migration_worker::handle(deps, event).await
    }))
    .await
}

//! journal-poster Lambda: posts each location-day's journal to the ERP.

use tillbridge::lambda_runtime::{run, service_fn};
use tillbridge::{handlers, telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), tillbridge::lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_env().await?;
    let deps = &deps;
    run(service_fn(move |event| {
        handlers::journal_poster::handle(deps, event)
    }))
    .await
}

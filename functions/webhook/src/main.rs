//! webhook Lambda: X-Series webhook receiver.

use tillbridge::lambda_http::{run, service_fn};
use tillbridge::{handlers, telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), tillbridge::lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_env().await?;
    let deps = &deps;
    run(service_fn(move |event| {
        handlers::webhook::handle(deps, event)
    }))
    .await
}

//! admin-api Lambda: the admin REST API.

use tillbridge::lambda_http::{run, service_fn};
use tillbridge::{handlers, telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), tillbridge::lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_env().await?;
    let deps = &deps;
    run(service_fn(move |event| async move {
        handlers::admin_api(deps, event).await
    }))
    .await
}

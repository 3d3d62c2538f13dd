//! admin-api Lambda: the admin REST API, one axum router served by `lambda_http`.

use std::sync::Arc;

use tillbridge::lambda_http::run;
use tillbridge::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), tillbridge::lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_env().await?;
    run(tillbridge_api::router(Arc::new(deps))).await
}

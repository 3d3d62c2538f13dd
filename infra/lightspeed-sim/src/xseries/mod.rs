//! Lightspeed Retail X-Series. The per-retailer host `https://{prefix}.retail.lightspeed.app` is
//! served under `/x/{prefix}`; `https://secure.retail.lightspeed.app/connect` under `/x/connect`.

pub mod api_auth;
pub mod catalog;
pub mod oauth;
pub mod ratelimit;
pub mod sales;
pub mod subscriptions;
pub mod wire;

use crate::server::AppState;
use axum::routing::{delete, get, post};
use axum::Router;
use std::sync::Arc;

pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    let api = Router::new()
        .route("/x/{prefix}/api/2.0/sales", get(sales::list))
        .route("/x/{prefix}/api/2.0/sales/{id}", get(sales::one))
        .route("/x/{prefix}/api/2.0/products", get(catalog::products))
        .route("/x/{prefix}/api/2.0/outlets", get(catalog::outlets))
        .route("/x/{prefix}/api/2.0/registers", get(catalog::registers))
        .route(
            "/x/{prefix}/api/2.0/payment_types",
            get(catalog::payment_types),
        )
        .route("/x/{prefix}/api/2.0/taxes", get(catalog::taxes))
        .route(
            "/x/{prefix}/api/webhooks",
            get(subscriptions::list).post(subscriptions::create),
        )
        .route(
            "/x/{prefix}/api/2.0/webhooks",
            get(subscriptions::list).post(subscriptions::create),
        )
        .route(
            "/x/{prefix}/api/webhooks/{id}",
            delete(subscriptions::remove),
        )
        .route(
            "/x/{prefix}/api/2.0/webhooks/{id}",
            delete(subscriptions::remove),
        )
        .route_layer(axum::middleware::from_fn_with_state(state, api_auth::layer));
    Router::new()
        .route("/x/connect", get(oauth::connect))
        .route("/x/{prefix}/api/1.0/token", post(oauth::token))
        .merge(api)
}

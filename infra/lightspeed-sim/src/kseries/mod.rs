//! Lightspeed Restaurant K-Series: the API host paths (`/oauth/*`, `/f/*`, `/items/*`) and the
//! V2 Keycloak realm paths (`/realms/k-series/...`), served from the simulator's root.

pub mod auth;
pub mod businesses;
pub mod finance;
pub mod items;
pub mod oauth;
pub mod sales;
pub mod wire;

use crate::server::AppState;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/oauth/authorize", get(oauth::v1_authorize))
        .route("/oauth/token", post(oauth::v1_token))
        .route("/oauth/userinfo", get(oauth::userinfo))
        .route(
            "/realms/k-series/protocol/openid-connect/auth",
            get(oauth::v2_authorize),
        )
        .route(
            "/realms/k-series/protocol/openid-connect/token",
            post(oauth::v2_token),
        )
        .route("/f/data/businesses", get(businesses::list))
        .route("/items/v1/items", get(items::list))
        .route("/items/v1/items/{id}", get(items::one))
        .route("/f/v2/business-location/{id}/sales", get(sales::list))
        .route(
            "/f/v2/business-location/{id}/sales-daily",
            get(sales::daily),
        )
        .route(
            "/f/finance/{id}/paymentMethods",
            get(finance::payment_methods),
        )
        .route("/f/finance/{id}/tax-rates", get(finance::tax_rates))
}

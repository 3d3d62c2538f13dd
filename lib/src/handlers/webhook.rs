//! webhook: Lightspeed X-Series deliveries (`POST /webhooks/lightspeed`, no JWT). Answers
//! within milliseconds: the signature, the form and one queue message (see
//! [`crate::webhook::receipt`]). Refusals are the error envelope: 401 for a signature, 400
//! for a form, 413 for a size; infrastructure failures are 5xx so Lightspeed retries.

use lambda_http::{Body, Request, Response};
use secrecy::ExposeSecret;

use super::now;
use crate::api::envelope;
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::webhook::receipt::{self, Receipt};

pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    let correlation = crate::random::uuid().to_string();
    let span = crate::telemetry::correlation_span("webhook", &correlation);
    let _entered = span.enter();
    Ok(match receive(deps, &request).await {
        Ok(receipt) => envelope::json(200, &receipt),
        Err(err) => {
            if err.code.http_status() >= 500 {
                tracing::error!(error = %err, "webhook not received; Lightspeed will retry");
            } else {
                tracing::warn!(code = err.code.as_str(), error = %err, "webhook refused");
            }
            envelope::error(&err, &correlation)
        }
    })
}

async fn receive(deps: &Deps, request: &Request) -> Result<Receipt, AppError> {
    let body: &[u8] = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    let secret = deps
        .lightspeed
        .x_series_client_secret()
        .await
        .map_err(|e| AppError::new(ErrorCode::LightspeedNotConfigured, e.to_string()))?
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::LightspeedNotConfigured,
                "no X-Series app is configured, so no webhook can be verified",
            )
        })?;
    let header = request
        .headers()
        .get("x-signature")
        .and_then(|v| v.to_str().ok());
    receipt::receive(
        deps.store.as_ref(),
        deps.queue.as_ref(),
        secret.expose_secret().as_bytes(),
        header,
        body,
        &now(),
    )
    .await
}

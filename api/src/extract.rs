//! Extractors of the admin API: who calls, which company's resource, the path ids and the
//! request as the routes read it. Each refuses with the error envelope (never axum's
//! plain-text rejections), and every path and query bound is checked here, before any
//! handler (and so any store call) runs.

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, OptionalFromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use http_body_util::LengthLimitError;
use lambda_http::RequestExt;
use serde::de::DeserializeOwned;
use tillbridge::error::{AppError, ErrorCode};
use tillbridge::ids;

use crate::auth::{Caller, Operator};
use crate::bounds;

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        Caller::from_request(&*parts)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Operator {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        Operator::from_request(&*parts)
    }
}

/// The path parameters as sent (not percent-decoded), by name, read against the matched
/// route template, so the bounds see exactly what the caller sent.
pub fn raw_path_params(parts: &Parts) -> Vec<(String, String)> {
    let Some(template) = parts.extensions.get::<MatchedPath>() else {
        return Vec::new();
    };
    template
        .as_str()
        .split('/')
        .zip(parts.uri.path().split('/'))
        .filter_map(|(segment, value)| {
            let name = segment.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

/// The company a request's path names, checked against the caller: a malformed company id
/// is no route (404), another company's is `403`. `None` for paths without a company.
pub fn company_of(
    caller: &Caller,
    params: &[(String, String)],
) -> Result<Option<String>, AppError> {
    let Some((_, company_id)) = params.iter().find(|(name, _)| name == "company_id") else {
        return Ok(None);
    };
    if !ids::is_valid_id(company_id) {
        return Err(AppError::new(
            ErrorCode::RouteNotFound,
            "company id is malformed",
        ));
    }
    caller.require_company(company_id)?;
    Ok(Some(company_id.clone()))
}

/// A company-scoped request that passed the shell's checks: an authenticated caller of
/// this company, and every path and query parameter within its bounds.
#[derive(Debug, Clone)]
pub struct Scope {
    pub company_id: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Scope {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let caller = Caller::from_request(&*parts)?;
        let params = raw_path_params(parts);
        let company_id = company_of(&caller, &params)?.unwrap_or_default();
        for (name, value) in &params {
            bounds::path_param(name, value)?;
        }
        if let Some(query) = parts.query_string_parameters_ref() {
            for (name, value) in query.iter() {
                bounds::query_param(name, value)?;
            }
        }
        Ok(Self { company_id })
    }
}

/// Typed path parameters (after [`Scope`] has bounded them), refusing with the envelope.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|err| AppError::validation(err.body_text()))
    }
}

/// A typed JSON body, read as [`crate::body::parse`] reads it (content type, JSON, bounds,
/// shape). Take `Result<Json<T>, AppError>` where a route checks something else first.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, _: &S) -> Result<Self, AppError> {
        let (content_type, bytes) = read_body(request).await?;
        crate::body::parse(content_type.as_deref(), &bytes).map(Json)
    }
}

/// `Option<Json<T>>`: a body that may be left out (empty is `None`), else read as [`Json`].
impl<T: DeserializeOwned, S: Send + Sync> OptionalFromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, _: &S) -> Result<Option<Self>, AppError> {
        let (content_type, bytes) = read_body(request).await?;
        if bytes.is_empty() {
            return Ok(None);
        }
        crate::body::parse(content_type.as_deref(), &bytes).map(|v| Some(Json(v)))
    }
}

/// The request's `Content-Type` (when readable) and its whole body.
async fn read_body(request: Request) -> Result<(Option<String>, axum::body::Bytes), AppError> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .map_err(body_error)?;
    Ok((content_type, bytes))
}

/// Typed query parameters: the first value of each name (as sent, after [`Scope`] has
/// bounded them) read into `T`. A refusal is `validation_failed` naming the parameter:
/// a value's own deserializer says what is wrong, e.g. "must be `true` or `false`".
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let Some(query) = parts.query_string_parameters_ref() {
            for (name, _) in query.iter() {
                if pairs.iter().all(|(seen, _)| *seen != name) {
                    if let Some(value) = query.first(name) {
                        pairs.push((name, value));
                    }
                }
            }
        }
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|err| {
                let path = err.path().to_string();
                let inner = err.into_inner();
                if path == "." {
                    AppError::validation(inner.to_string())
                } else {
                    AppError::validation(format!("`{path}` {inner}"))
                }
            })
    }
}

/// The optional `Idempotency-Key` header of a create, trimmed and bounded.
pub struct IdempotencyKey(pub Option<String>);

const IDEMPOTENCY_HEADER: &str = "idempotency-key";

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let key = parts
            .headers
            .get(IDEMPOTENCY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|k| !k.is_empty());
        if key.is_some_and(|k| k.len() > 200) {
            return Err(AppError::validation(
                "`Idempotency-Key` must be at most 200 characters",
            ));
        }
        Ok(Self(key.map(str::to_string)))
    }
}

/// Documents the header: `params(IdempotencyKey)` on a create.
impl utoipa::IntoParams for IdempotencyKey {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{Ref, Required};
        vec![ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "A retried create with the same key returns the first object (200) instead of making another.",
            ))
            .schema(Some(Ref::from_schema_name("IdempotencyKey")))
            .build()]
    }
}

impl IdempotencyKey {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

pub(crate) fn body_error(err: axum::Error) -> AppError {
    let inner = err.into_inner();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(inner.as_ref());
    while let Some(err) = source {
        if err.is::<LengthLimitError>() {
            return too_large();
        }
        source = err.source();
    }
    AppError::new(ErrorCode::InvalidJson, "the body could not be read")
}

/// `413` for a body over [`crate::router::MAX_BODY`].
pub fn too_large() -> AppError {
    AppError::new(
        ErrorCode::PayloadTooLarge,
        format!("the body is larger than {} bytes", crate::router::MAX_BODY),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use lambda_http::RequestExt;
    use serde::Deserialize;

    use super::*;
    use crate::routes::{flag, PageQuery};

    #[derive(Debug, Deserialize)]
    struct Filters {
        #[serde(default, deserialize_with = "flag")]
        mapped: Option<bool>,
        product: Option<String>,
    }

    async fn query<T: DeserializeOwned + Send>(pairs: &[(&str, &str)]) -> Result<T, AppError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let request = axum::http::Request::builder()
            .uri("/x")
            .body(())
            .map_err(|e| AppError::validation(e.to_string()))?
            .with_query_string_parameters(map);
        let (mut parts, ()) = request.into_parts();
        Query::<T>::from_request_parts(&mut parts, &())
            .await
            .map(|Query(v)| v)
    }

    #[tokio::test]
    async fn query_values_are_typed_and_refusals_name_the_parameter() {
        let ok: Filters = query(&[("mapped", "true"), ("product", "k_series"), ("other", "x")])
            .await
            .unwrap();
        assert_eq!(
            (ok.mapped, ok.product.as_deref()),
            (Some(true), Some("k_series"))
        );
        let none: Filters = query(&[]).await.unwrap();
        assert_eq!((none.mapped, none.product), (None, None));
        let err = query::<Filters>(&[("mapped", "yes")]).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert_eq!(err.message, "`mapped` must be `true` or `false`, not `yes`");
        let err = query::<PageQuery>(&[("limit", "0")]).await.unwrap_err();
        assert_eq!(err.message, "`limit` must be a whole number from 1 to 100");
        let page: PageQuery = query(&[("cursor", "abc")]).await.unwrap();
        assert_eq!((page.limit.0, page.cursor.as_deref()), (50, Some("abc")));
    }
}

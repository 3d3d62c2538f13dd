//! Who is calling. In AWS a JWT authorizer validates the token and API Gateway passes its
//! claims in the request context; the local host does the same with tokens it mints.
//! The function itself enforces that the company claim matches the resource, and that
//! operator routes (`/v1/dead-letters`) are called with an operator token.

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use tillbridge::error::{AppError, ErrorCode};

/// The JWT claim that names the caller's company.
pub const COMPANY_CLAIM: &str = "company_id";

/// The JWT claim that names the caller's role; [`OPERATOR_ROLE`] opens the operator routes.
pub const ROLE_CLAIM: &str = "role";

/// The role of the integrator who runs the deployment (dead letters, across companies).
pub const OPERATOR_ROLE: &str = "operator";

/// The verified claims of the request's token, if it carried one.
fn claims(request: &impl RequestExt) -> Option<&HashMap<String, String>> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|jwt| &jwt.claims),
        _ => None,
    }
}

/// Whether the token's role claim is exactly [`OPERATOR_ROLE`].
fn is_operator(claims: &HashMap<String, String>) -> bool {
    claims.get(ROLE_CLAIM).map(String::as_str) == Some(OPERATOR_ROLE)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub company_id: String,
}

impl Caller {
    /// The caller of a request (or of its parts or extensions: anything that carries the
    /// API Gateway request context).
    pub fn from_request(request: &impl RequestExt) -> Result<Self, AppError> {
        let claims = claims(request);
        // Compared exactly: `"acme "` is not `acme`, so a claim can never be stretched to
        // another company's id by padding.
        match claims.and_then(|c| c.get(COMPANY_CLAIM)) {
            Some(company) if !company.is_empty() => Ok(Self {
                company_id: company.to_string(),
            }),
            // An operator token is genuine but names no company: it opens no company's
            // resources.
            _ if claims.is_some_and(is_operator) => Err(AppError::new(
                ErrorCode::UnauthorizedCompanyAccess,
                "an operator token names no company; use a company token for company routes",
            )),
            _ => Err(AppError::new(
                ErrorCode::Unauthenticated,
                "no authenticated company: send `Authorization: Bearer <token>` with a `company_id` claim",
            )),
        }
    }

    /// 403 unless the resource's company is the caller's.
    pub fn require_company(&self, company_id: &str) -> Result<(), AppError> {
        if self.company_id == company_id {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::UnauthorizedCompanyAccess,
                format!(
                    "your token is for company `{}`, not `{company_id}`",
                    self.company_id
                ),
            ))
        }
    }
}

/// An operator: a token with `role: operator`. Without a token the answer is `401
/// unauthenticated`; a company token (or any other role) is `403 operator_scope_required`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The token's `sub`, for the logs.
    pub subject: String,
}

impl Operator {
    pub fn from_request(request: &impl RequestExt) -> Result<Self, AppError> {
        let Some(claims) = claims(request).filter(|c| !c.is_empty()) else {
            return Err(AppError::new(
                ErrorCode::Unauthenticated,
                "send `Authorization: Bearer <token>` with an operator token (`role: operator`)",
            ));
        };
        if !is_operator(claims) {
            return Err(AppError::new(
                ErrorCode::OperatorScopeRequired,
                "this route needs an operator token (`role: operator`); company tokens cannot use it",
            ));
        }
        Ok(Self {
            subject: claims.get("sub").cloned().unwrap_or_default(),
        })
    }
}

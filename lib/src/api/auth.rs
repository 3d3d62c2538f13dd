//! Who is calling. In AWS a JWT authorizer validates the token and API Gateway passes its
//! claims in the request context; the local host does the same with tokens it mints.
//! The function itself enforces that the company claim matches the resource.

use lambda_http::request::RequestContext;
use lambda_http::RequestExt;

use crate::error::{AppError, ErrorCode};

/// The JWT claim that names the caller's company.
pub const COMPANY_CLAIM: &str = "company_id";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub company_id: String,
}

impl Caller {
    /// The caller of a request (or of its parts or extensions: anything that carries the
    /// API Gateway request context).
    pub fn from_request(request: &impl RequestExt) -> Result<Self, AppError> {
        let claims = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|jwt| &jwt.claims),
            _ => None,
        };
        // Compared exactly: `"acme "` is not `acme`, so a claim can never be stretched to
        // another company's id by padding.
        match claims.and_then(|c| c.get(COMPANY_CLAIM)) {
            Some(company) if !company.is_empty() => Ok(Self {
                company_id: company.to_string(),
            }),
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

//! Admin API tokens for local runs: HS256 JWTs minted and verified by the local host,
//! standing in for the JWT authorizer API Gateway runs in AWS.

use std::collections::HashMap;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const ISSUER: &str = "tillbridge-local";
pub const AUDIENCE: &str = "tillbridge-admin";

/// The claims API Gateway's JWT authorizer would check and pass on.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    company_id: Option<String>,
    /// `operator` for the operator routes (`/v1/dead-letters`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    iat: i64,
    exp: i64,
}

#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl TokenKey {
    pub fn random() -> Self {
        let mut key = Vec::with_capacity(32);
        key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self(key)
    }

    /// A token for `company_id`, valid for `ttl_seconds`.
    pub fn mint(&self, company_id: &str, ttl_seconds: i64) -> String {
        self.sign(&Claims {
            sub: format!("local-admin@{company_id}"),
            company_id: Some(company_id.into()),
            ..self.claims(ttl_seconds)
        })
    }

    /// An operator's token (`role: operator`, no company), valid for `ttl_seconds`.
    pub fn mint_operator(&self, subject: &str, ttl_seconds: i64) -> String {
        self.sign(&Claims {
            sub: subject.into(),
            role: Some(tillbridge_api::auth::OPERATOR_ROLE.into()),
            ..self.claims(ttl_seconds)
        })
    }

    fn claims(&self, ttl_seconds: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: String::new(),
            company_id: None,
            role: None,
            iat: now,
            exp: now + ttl_seconds,
        }
    }

    fn sign(&self, claims: &Claims) -> String {
        EncodingKey::from_secret(&self.0)
            .and_then(|key| encode(&Header::new(Algorithm::HS256), claims, &key))
            .unwrap_or_default()
    }

    /// The token's claims as strings (as API Gateway passes them), if it is genuine,
    /// unexpired and for this audience and issuer.
    pub fn verify(&self, token: &str) -> Option<HashMap<String, String>> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 0;
        let key = DecodingKey::from_secret(&self.0).ok()?;
        let claims = decode::<serde_json::Map<String, Value>>(token, &key, &validation)
            .ok()?
            .claims;
        Some(
            claims
                .into_iter()
                .map(|(k, v)| {
                    let text = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    (k, text)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_carry_the_company() {
        let key = TokenKey::random();
        let claims = key.verify(&key.mint("acme", 60)).unwrap();
        assert_eq!(claims["company_id"], "acme");
        let operator = key.verify(&key.mint_operator("ops@local", 60)).unwrap();
        assert_eq!(operator["role"], "operator");
        assert!(!operator.contains_key("company_id"));
    }

    #[test]
    fn tampered_expired_or_foreign_tokens_fail() {
        let key = TokenKey::random();
        let token = key.mint("acme", 60);
        let mut tampered = token.clone().into_bytes();
        let i = token.find('.').unwrap() + 3;
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        assert!(key.verify(&String::from_utf8(tampered).unwrap()).is_none());
        assert!(key.verify(&key.mint("acme", -1)).is_none());
        assert!(TokenKey::random().verify(&token).is_none());
        assert!(key.verify("not-a-token").is_none());
    }
}

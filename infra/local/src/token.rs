//! Admin API tokens for local runs: HS256 JWTs minted and verified by the local host,
//! standing in for the JWT authorizer API Gateway runs in AWS.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

pub const ISSUER: &str = "tillbridge-local";
pub const AUDIENCE: &str = "tillbridge-admin";

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl TokenKey {
    pub fn random() -> Self {
        let mut key = Vec::with_capacity(32);
        key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self(key)
    }

    fn sign(&self, input: &str) -> Vec<u8> {
        let mut mac = match HmacSha256::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => return Vec::new(),
        };
        mac.update(input.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// A token for `company_id`, valid for `ttl_seconds`.
    pub fn mint(&self, company_id: &str, ttl_seconds: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT"}).to_string());
        let claims = json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": format!("local-admin@{company_id}"),
            "company_id": company_id, "iat": now, "exp": now + ttl_seconds,
        });
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(self.sign(&input));
        format!("{input}.{signature}")
    }

    /// The token's claims as strings (as API Gateway passes them), if it is genuine,
    /// unexpired and for this audience.
    pub fn verify(&self, token: &str) -> Option<HashMap<String, String>> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let given = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = HmacSha256::new_from_slice(&self.0).ok()?;
        mac.update(format!("{header}.{payload}").as_bytes());
        mac.verify_slice(&given).ok()?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let exp = claims.get("exp")?.as_i64()?;
        if exp <= chrono::Utc::now().timestamp()
            || claims.get("aud")?.as_str()? != AUDIENCE
            || claims.get("iss")?.as_str()? != ISSUER
        {
            return None;
        }
        Some(
            claims
                .as_object()?
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
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

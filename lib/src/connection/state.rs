//! The OAuth `state` parameter: signed (HMAC-SHA256 with the app's state-signing key),
//! expiring, bound to a company and product, and single-use through a nonce record.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::product::PosProduct;

type HmacSha256 = Hmac<Sha256>;

/// How long a user has to complete the Lightspeed consent screen.
pub const STATE_LIFETIME_SECONDS: i64 = 15 * 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateClaims {
    pub company_id: String,
    pub product: PosProduct,
    /// Single-use id; its record is consumed by the callback.
    pub nonce: String,
    /// Epoch seconds.
    pub expires_at: i64,
    pub reauthorize: bool,
    /// X-Series stores are addressed by domain prefix.
    #[serde(default)]
    pub domain_prefix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("the state parameter is malformed")]
    Malformed,
    #[error("the state parameter's signature does not match; it was altered or not issued by this deployment")]
    BadSignature,
    #[error("the authorization link expired; start the connection again")]
    Expired,
}

fn mac(key: &[u8], payload: &str) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(payload.as_bytes());
    Some(mac)
}

pub fn sign(claims: &StateClaims, key: &[u8]) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signature = mac(key, &payload)
        .map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("{payload}.{signature}")
}

/// Checks signature (constant time) and expiry; the nonce check is the caller's.
pub fn verify(state: &str, key: &[u8], now_epoch: i64) -> Result<StateClaims, StateError> {
    let (payload, signature) = state.split_once('.').ok_or(StateError::Malformed)?;
    let given = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| StateError::Malformed)?;
    mac(key, payload)
        .ok_or(StateError::Malformed)?
        .verify_slice(&given)
        .map_err(|_| StateError::BadSignature)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| StateError::Malformed)?;
    let claims: StateClaims = serde_json::from_slice(&bytes).map_err(|_| StateError::Malformed)?;
    if claims.expires_at <= now_epoch {
        return Err(StateError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(expires_at: i64) -> StateClaims {
        StateClaims {
            company_id: "acme".into(),
            product: PosProduct::KSeries,
            nonce: "n1".into(),
            expires_at,
            reauthorize: false,
            domain_prefix: None,
        }
    }

    #[test]
    fn a_signed_state_verifies_until_it_expires() {
        let state = sign(&claims(1_000), b"key");
        assert_eq!(verify(&state, b"key", 999).unwrap(), claims(1_000));
        assert_eq!(verify(&state, b"key", 1_000), Err(StateError::Expired));
    }

    #[test]
    fn any_changed_byte_or_key_is_refused() {
        let state = sign(&claims(1_000), b"key");
        assert_eq!(verify(&state, b"other", 0), Err(StateError::BadSignature));
        // Re-sign different claims with a guessed key: still refused under the real key.
        let forged = sign(
            &StateClaims {
                company_id: "evil".into(),
                ..claims(1_000)
            },
            b"guess",
        );
        assert_eq!(verify(&forged, b"key", 0), Err(StateError::BadSignature));
        for i in 0..state.len() {
            let mut bytes = state.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).unwrap();
            if altered != state {
                assert!(verify(&altered, b"key", 0).is_err(), "byte {i}");
            }
        }
        assert_eq!(verify("no-dot", b"key", 0), Err(StateError::Malformed));
    }
}

//! X-Series webhook signatures: `X-Signature: signature=<value>,algorithm=HMAC-SHA256`, the
//! HMAC of the raw request body keyed with the app's client secret. The value is hex (the
//! public implementations and the simulator) or base64 (the documentation's sample is
//! ambiguous); either is compared in constant time. Checked before anything is parsed.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no X-Signature header")]
    Missing,
    #[error("the X-Signature header is not `signature=<value>,algorithm=HMAC-SHA256`")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// The header's signature bytes, if it names HMAC-SHA256 (parts split on `,`, trimmed).
fn parse(header: &str) -> Result<Vec<u8>, SignatureError> {
    let mut value = None;
    let mut algorithm = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("signature", v)) => value = Some(v.trim()),
            Some(("algorithm", a)) => algorithm = Some(a.trim()),
            _ => return Err(SignatureError::Malformed),
        }
    }
    if !algorithm.is_some_and(|a| a.eq_ignore_ascii_case("HMAC-SHA256")) {
        return Err(SignatureError::Malformed);
    }
    let value = value
        .filter(|v| !v.is_empty())
        .ok_or(SignatureError::Malformed)?;
    // 64 hex digits is a SHA-256 digest in hex; anything else is tried as base64.
    if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(value).map_err(|_| SignatureError::Malformed);
    }
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()
        .filter(|bytes| bytes.len() == 32)
        .ok_or(SignatureError::Malformed)
}

/// Verifies `header` against the raw `body` and the client `secret`.
pub fn verify(header: Option<&str>, body: &[u8], secret: &[u8]) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let claimed = parse(header)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&claimed)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }

    #[test]
    fn hex_and_base64_signatures_of_the_raw_body_verify() {
        let body = b"payload=%7B%22id%22%3A1%7D&type=sale.update";
        let digest = sign("s3cret", body);
        let hex_header = format!("signature={},algorithm=HMAC-SHA256", hex::encode(&digest));
        assert_eq!(verify(Some(&hex_header), body, b"s3cret"), Ok(()));
        let spaced = format!(
            "signature={}, algorithm=HMAC-SHA256",
            base64::engine::general_purpose::STANDARD.encode(&digest)
        );
        assert_eq!(verify(Some(&spaced), body, b"s3cret"), Ok(()));
    }

    #[test]
    fn forged_truncated_missing_and_foreign_signatures_are_refused() {
        let body = b"payload=%7B%7D&type=sale.update";
        let good = hex::encode(sign("s3cret", body));
        let header = |v: &str| format!("signature={v},algorithm=HMAC-SHA256");
        assert_eq!(verify(None, body, b"s3cret"), Err(SignatureError::Missing));
        assert_eq!(
            verify(Some(&header(&good[..40])), body, b"s3cret"),
            Err(SignatureError::Malformed)
        );
        let other = hex::encode(sign("another", body));
        assert_eq!(
            verify(Some(&header(&other)), body, b"s3cret"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                Some(&header(&good)),
                b"payload=%7B%7D&type=sale.updatf",
                b"s3cret"
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                Some(&format!("signature={good},algorithm=MD5")),
                body,
                b"s3cret"
            ),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some("garbage"), body, b"s3cret"),
            Err(SignatureError::Malformed)
        );
    }
}

//! Tokens live in Secrets Manager, one secret per integration, and nowhere else.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::connection::PosProduct;
use crate::secrets::{SecretError, SecretVault};

#[derive(Clone, Serialize, Deserialize)]
pub struct TokenSet {
    #[serde(serialize_with = "expose")]
    pub access_token: SecretString,
    #[serde(serialize_with = "expose")]
    pub refresh_token: SecretString,
    /// Epoch seconds.
    pub access_expires_at: i64,
    /// Epoch seconds; `None` when Lightspeed gives the refresh token no expiry.
    pub refresh_expires_at: Option<i64>,
    pub obtained_at: i64,
}

/// Tokens are serialised only into the vault's secret string.
fn expose<S: serde::Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

impl TokenSet {
    /// Whether this set holds `access_token` (compared without printing either).
    pub fn has_access_token(&self, access_token: &str) -> bool {
        self.access_token.expose_secret() == access_token
    }
}

// Never print tokens, even in debug output.
impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("obtained_at", &self.obtained_at)
            .finish_non_exhaustive()
    }
}

pub fn secret_id(prefix: &str, company_id: &str, product: PosProduct) -> String {
    format!("{prefix}/integration/{company_id}/{product}")
}

pub async fn read(vault: &dyn SecretVault, id: &str) -> Result<Option<TokenSet>, SecretError> {
    match vault.get(id).await {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|_| SecretError::Rejected(format!("secret {id} does not hold a token set"))),
        Err(SecretError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

pub async fn write(
    vault: &dyn SecretVault,
    id: &str,
    tokens: &TokenSet,
) -> Result<(), SecretError> {
    let text = serde_json::to_string(tokens).map_err(|e| SecretError::Rejected(e.to_string()))?;
    vault.put(id, &text).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_tokens() {
        let tokens = TokenSet {
            access_token: SecretString::from("secret-access"),
            refresh_token: SecretString::from("secret-refresh"),
            access_expires_at: 1,
            refresh_expires_at: None,
            obtained_at: 0,
        };
        let printed = format!("{tokens:?}");
        assert!(
            !printed.contains("secret-access") && !printed.contains("secret-refresh"),
            "{printed}"
        );
    }
}

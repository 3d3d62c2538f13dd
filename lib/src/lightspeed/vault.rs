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
    /// Orders pairs of one integration: epoch milliseconds when obtained, and above the
    /// pair it was refreshed from, so a rotation within the same instant still counts as
    /// newer. Pairs stored before it existed read as 0.
    #[serde(default)]
    pub generation: i64,
    /// Set on a rotated pair that no secret could take: the process holding it saves it
    /// as soon as the vault accepts writes again.
    #[serde(skip)]
    pub unsaved: bool,
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

/// The second secret a rotated pair falls back to when the integration's own secret cannot
/// be written. It is a vault secret like the first (tokens never go to the table) and is
/// read whenever tokens are about to be refreshed, so the pair Lightspeed now expects is
/// found there.
pub fn pending_secret_id(id: &str) -> String {
    format!("{id}/pending")
}

/// Where a rotated pair was saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Secret,
    /// Only in the fallback secret: the integration's secret still holds the previous pair.
    Pending,
}

/// Attempts at each secret, with growing jittered pauses between them (about 0.1, 0.2 and
/// 0.4 s): long enough to ride out throttling, short enough for a request in flight.
const SAVE_ATTEMPTS: u32 = 4;

async fn put_with_retries(
    vault: &dyn SecretVault,
    id: &str,
    tokens: &TokenSet,
) -> Result<(), SecretError> {
    let mut attempt = 0;
    loop {
        match write(vault, id, tokens).await {
            Ok(()) => return Ok(()),
            Err(err) if attempt + 1 >= SAVE_ATTEMPTS => return Err(err),
            Err(err) => {
                tracing::warn!(attempt, error = %err, "saving rotated tokens failed; retrying");
                let pause = crate::random::backoff(attempt as usize, 100, 8, 50);
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
        }
    }
}

/// Saves a pair Lightspeed has just rotated to. Once rotated, the previous refresh token is
/// dead, so losing this pair disconnects the integration: the integration's secret is
/// retried, then the fallback secret is written.
pub async fn save_rotated(
    vault: &dyn SecretVault,
    id: &str,
    tokens: &TokenSet,
) -> Result<Saved, SecretError> {
    let primary = match put_with_retries(vault, id, tokens).await {
        Ok(()) => return Ok(Saved::Secret),
        Err(err) => err,
    };
    tracing::error!(error = %primary, "rotated tokens not saved in their secret; using the fallback secret");
    put_with_retries(vault, &pending_secret_id(id), tokens)
        .await
        .map(|()| Saved::Pending)
}

/// The newest pair of the integration: its secret, or the fallback secret when that holds a
/// later rotation. A newer fallback pair is copied back to the integration's secret (best
/// effort: until that succeeds it is simply found here again).
pub async fn read_newest(
    vault: &dyn SecretVault,
    id: &str,
) -> Result<Option<TokenSet>, SecretError> {
    let main = read(vault, id).await?;
    let pending = read(vault, &pending_secret_id(id)).await?;
    match (main, pending) {
        (Some(main), Some(pending)) if pending.generation > main.generation => {
            promote(vault, id, &pending).await;
            Ok(Some(pending))
        }
        (None, Some(pending)) => {
            promote(vault, id, &pending).await;
            Ok(Some(pending))
        }
        (main, _) => Ok(main),
    }
}

/// Saves a pair held only in memory, unless the integration's secret meanwhile holds a
/// later one (a reauthorization). `Ok(true)` once it is in the vault.
pub async fn save_unsaved(
    vault: &dyn SecretVault,
    id: &str,
    tokens: &TokenSet,
) -> Result<bool, SecretError> {
    match read(vault, id).await? {
        Some(stored) if stored.generation >= tokens.generation => Ok(false),
        _ => write(vault, id, tokens).await.map(|()| true),
    }
}

async fn promote(vault: &dyn SecretVault, id: &str, tokens: &TokenSet) {
    match write(vault, id, tokens).await {
        Ok(()) => tracing::info!("rotated tokens moved from the fallback secret to their own"),
        Err(err) => {
            tracing::warn!(error = %err, "rotated tokens stay in the fallback secret for now")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::secrets::memory::MemoryVault;

    fn pair(access: &str, generation: i64) -> TokenSet {
        TokenSet {
            access_token: SecretString::from(access),
            refresh_token: SecretString::from(format!("{access}-refresh")),
            access_expires_at: 1,
            refresh_expires_at: None,
            obtained_at: 0,
            generation,
            unsaved: false,
        }
    }

    async fn newest_access(vault: &MemoryVault) -> String {
        read_newest(vault, "s")
            .await
            .unwrap()
            .unwrap()
            .access_token
            .expose_secret()
            .to_string()
    }

    #[tokio::test]
    async fn the_later_generation_wins_and_is_moved_back() {
        let vault = MemoryVault::default();
        write(&vault, "s", &pair("old", 10)).await.unwrap();
        write(&vault, &pending_secret_id("s"), &pair("rotated", 11))
            .await
            .unwrap();
        assert_eq!(newest_access(&vault).await, "rotated");
        let main = read(&vault, "s").await.unwrap().unwrap();
        assert_eq!(main.access_token.expose_secret(), "rotated");
        // A later pair in the integration's own secret (a reauthorization) outranks a
        // fallback pair left behind.
        write(&vault, "s", &pair("reauthorized", 20)).await.unwrap();
        assert_eq!(newest_access(&vault).await, "reauthorized");
    }

    #[test]
    fn debug_output_hides_the_tokens() {
        let tokens = TokenSet {
            access_token: SecretString::from("secret-access"),
            refresh_token: SecretString::from("secret-refresh"),
            access_expires_at: 1,
            refresh_expires_at: None,
            obtained_at: 0,
            generation: 0,
            unsaved: false,
        };
        let printed = format!("{tokens:?}");
        assert!(
            !printed.contains("secret-access") && !printed.contains("secret-refresh"),
            "{printed}"
        );
    }
}

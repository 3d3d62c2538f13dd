//! The secret-vault port: tokens and app keys live in Secrets Manager, never in the table.

pub mod memory;
pub mod secrets_manager;

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret {0} does not exist")]
    NotFound(String),
    #[error("secret store unavailable: {0}")]
    Unavailable(String),
    #[error("secret request rejected: {0}")]
    Rejected(String),
}

#[async_trait]
pub trait SecretVault: Send + Sync {
    async fn get(&self, id: &str) -> Result<String, SecretError>;
    /// Creates the secret or stores a new version of it.
    async fn put(&self, id: &str, value: &str) -> Result<(), SecretError>;
    /// Deletes the secret at once (no recovery window); an absent one is already deleted.
    async fn delete(&self, id: &str) -> Result<(), SecretError>;
}

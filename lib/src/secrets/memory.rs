//! [`SecretVault`] in memory, for unit tests of use cases.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{SecretError, SecretVault};

#[derive(Default)]
pub struct MemoryVault(Mutex<HashMap<String, String>>);

#[async_trait]
impl SecretVault for MemoryVault {
    async fn get(&self, id: &str) -> Result<String, SecretError> {
        let map = self
            .0
            .lock()
            .map_err(|_| SecretError::Unavailable("poisoned".into()))?;
        map.get(id)
            .cloned()
            .ok_or_else(|| SecretError::NotFound(id.into()))
    }

    async fn put(&self, id: &str, value: &str) -> Result<(), SecretError> {
        let mut map = self
            .0
            .lock()
            .map_err(|_| SecretError::Unavailable("poisoned".into()))?;
        map.insert(id.into(), value.into());
        Ok(())
    }

    async fn delete(&self, id: &str) -> Result<(), SecretError> {
        let mut map = self
            .0
            .lock()
            .map_err(|_| SecretError::Unavailable("poisoned".into()))?;
        map.remove(id);
        Ok(())
    }
}

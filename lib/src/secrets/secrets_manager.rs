//! [`SecretVault`] on AWS Secrets Manager (or moto).

use async_trait::async_trait;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::Client;

use super::{SecretError, SecretVault};
use crate::telemetry::sdk_error_detail;

pub struct SecretsManagerVault {
    client: Client,
}

impl SecretsManagerVault {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

fn classify<E, R>(id: &str, err: SdkError<E, R>) -> SecretError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(service) => match service.err().code() {
            Some("ResourceNotFoundException") => SecretError::NotFound(id.to_string()),
            Some("InternalServiceError") | Some("ThrottlingException") => {
                SecretError::Unavailable(service.err().message().unwrap_or_default().to_string())
            }
            code => SecretError::Rejected(format!(
                "{}: {}",
                code.unwrap_or_default(),
                service.err().message().unwrap_or_default()
            )),
        },
        // The error chain names the cause, never the request (which holds the value).
        _ => SecretError::Unavailable(sdk_error_detail(&err)),
    }
}

#[async_trait]
impl SecretVault for SecretsManagerVault {
    async fn get(&self, id: &str) -> Result<String, SecretError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| classify(id, e))?;
        output
            .secret_string
            .ok_or_else(|| SecretError::Rejected(format!("secret {id} has no string value")))
    }

    async fn put(&self, id: &str, value: &str) -> Result<(), SecretError> {
        match self
            .client
            .put_secret_value()
            .secret_id(id)
            .secret_string(value)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => match classify(id, err) {
                SecretError::NotFound(_) => {
                    self.client
                        .create_secret()
                        .name(id)
                        .secret_string(value)
                        .send()
                        .await
                        .map_err(|e| classify(id, e))?;
                    Ok(())
                }
                other => Err(other),
            },
        }
    }

    async fn delete(&self, id: &str) -> Result<(), SecretError> {
        let deleted = self
            .client
            .delete_secret()
            .secret_id(id)
            .force_delete_without_recovery(true)
            .send()
            .await;
        match deleted.map_err(|e| classify(id, e)) {
            Ok(_) | Err(SecretError::NotFound(_)) => Ok(()),
            Err(other) => Err(other),
        }
    }
}

//! A company's ERP connection: where the ERP is and who posts (DynamoDB), and the API key
//! (Secrets Manager, never in the table or the logs).

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{Erp, ErpError};
use crate::api::openapi::schemas as doc;
use crate::error::{AppError, ErrorCode};
use crate::secrets::SecretVault;
use crate::store::{get_as, to_item, Condition, ItemStore, Key};

/// How the connector talks to Odoo.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// `POST /jsonrpc` `execute_kw` (Odoo 17 to 21).
    #[default]
    JsonRpc,
    /// `POST /json/2/<model>/<method>` with a bearer API key (Odoo 19+).
    Json2,
}

/// What the admin gives (the key only on the way in).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ErpConnectionInput)]
pub struct ConnectionInput {
    /// Absolute http(s) URL of the ERP
    #[schema(min_length = 1, max_length = 256)]
    pub url: String,
    #[schema(schema_with = doc::credential_text)]
    pub database: String,
    #[schema(schema_with = doc::credential_text)]
    pub login: String,
    /// Stored in Secrets Manager, never returned
    #[schema(schema_with = doc::credential_text)]
    pub api_key: String,
    /// JSON-RPC execute_kw (Odoo 17–21, default) or JSON-2 (Odoo 19+)
    #[serde(default)]
    #[schema(inline)]
    pub transport: Transport,
}

/// The stored connection (no key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErpConnection {
    pub company_id: String,
    /// Always `odoo` today; the `Erp` port lets others follow.
    #[schema(schema_with = doc::erp_kind)]
    pub kind: String,
    pub url: String,
    pub database: String,
    pub login: String,
    #[schema(inline)]
    pub transport: Transport,
    pub updated_at: String,
}

/// Where a company's ERP key is kept in the vault.
pub fn secret_id(prefix: &str, company_id: &str) -> String {
    format!("{prefix}/erp/{company_id}")
}

fn key(company_id: &str) -> Key {
    Key::new(crate::store::keys::company(company_id), "ERP")
}

const MAX_TEXT: usize = 256;

impl ConnectionInput {
    fn validate(&self) -> Result<(), AppError> {
        let url = reqwest::Url::parse(&self.url)
            .map_err(|_| AppError::validation("`url` must be an absolute http(s) URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(AppError::validation(
                "`url` must be an absolute http(s) URL",
            ));
        }
        for (field, value) in [
            ("url", &self.url),
            ("database", &self.database),
            ("login", &self.login),
            ("api_key", &self.api_key),
        ] {
            if value.trim().is_empty()
                || value.len() > MAX_TEXT
                || value.chars().any(char::is_control)
            {
                return Err(AppError::validation(format!(
                    "`{field}` must be 1 to {MAX_TEXT} printable characters"
                )));
            }
        }
        Ok(())
    }
}

/// Saves the connection: the key into the vault first, so a stored connection always has one.
pub async fn save(
    store: &dyn ItemStore,
    vault: &dyn SecretVault,
    secret_prefix: &str,
    company_id: &str,
    input: ConnectionInput,
    now: &str,
) -> Result<ErpConnection, AppError> {
    input.validate()?;
    vault
        .put(&secret_id(secret_prefix, company_id), &input.api_key)
        .await?;
    let connection = ErpConnection {
        company_id: company_id.to_string(),
        kind: "odoo".into(),
        url: input.url.trim_end_matches('/').to_string(),
        database: input.database,
        login: input.login,
        transport: input.transport,
        updated_at: now.to_string(),
    };
    store
        .put(to_item(&connection, &key(company_id))?, Condition::None)
        .await?;
    Ok(connection)
}

pub async fn get(
    store: &dyn ItemStore,
    company_id: &str,
) -> Result<Option<ErpConnection>, AppError> {
    Ok(get_as(store, &key(company_id)).await?)
}

/// The connection, or `erp_not_configured`.
pub async fn require(store: &dyn ItemStore, company_id: &str) -> Result<ErpConnection, AppError> {
    get(store, company_id).await?.ok_or_else(|| {
        AppError::new(
            ErrorCode::ErpNotConfigured,
            "no ERP is connected for this company; PUT /account-mappings/erp first",
        )
    })
}

/// Opens an ERP session for one ERP company (the connector's default company when `None`).
#[async_trait]
pub trait ErpConnector: Send + Sync {
    async fn open(
        &self,
        connection: &ErpConnection,
        api_key: SecretString,
        erp_company_id: Option<i64>,
    ) -> Result<Box<dyn Erp>, ErpError>;
}

//! Simulator configuration.

use chrono::NaiveDate;

/// Which Odoo the simulator plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OdooVersion {
    /// Odoo 18.0: `/jsonrpc` only; `POST /json/2/...` answers 303 → `/web/login`.
    V18,
    /// Odoo 19.0: `/jsonrpc` (deprecated) and JSON-2 at `/json/2/<model>/<method>`.
    V19,
}

impl OdooVersion {
    pub fn major(self) -> u32 {
        match self {
            OdooVersion::V18 => 18,
            OdooVersion::V19 => 19,
        }
    }
}

/// Full simulator configuration.
#[derive(Debug, Clone)]
pub struct OdooConfig {
    /// Port to bind on 127.0.0.1 (0 = ephemeral).
    pub port: u16,
    pub version: OdooVersion,
    /// The one database served.
    pub db: String,
    /// The API user's login (uid 2) and password.
    pub login: String,
    pub password: String,
    /// The API user's API key: works as the password over JSON-RPC and as the bearer token
    /// over JSON-2.
    pub api_key: String,
    /// Seed of the fault PRNG (percentage faults are repeatable).
    pub seed: u64,
    /// The server's "today" (default date of entries and reversals); `None` = the real date.
    pub today: Option<NaiveDate>,
}

impl Default for OdooConfig {
    fn default() -> Self {
        OdooConfig {
            port: 0,
            version: OdooVersion::V18,
            db: "tillbridge".into(),
            login: "admin".into(),
            password: "admin".into(),
            api_key: "0c5f3a9e4b7d41e2a8f6c1d9b3e7a5f2c4d6e8a0".into(),
            seed: 42,
            today: None,
        }
    }
}

//! Where a location's sales come from: the Lightspeed products a company can connect (one
//! integration each), or CSV files imported through the admin API.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PosProduct {
    /// Lightspeed Restaurant K-Series.
    KSeries,
    /// Lightspeed Retail X-Series.
    XSeries,
    /// Sales imported as CSV files (SPEC C12): no connection, no OAuth, no webhooks.
    Csv,
}

impl PosProduct {
    pub fn as_str(self) -> &'static str {
        match self {
            PosProduct::KSeries => "k_series",
            PosProduct::XSeries => "x_series",
            PosProduct::Csv => "csv",
        }
    }

    /// Whether this is a Lightspeed product (connected through OAuth, synced, polled).
    pub fn is_lightspeed(self) -> bool {
        !matches!(self, PosProduct::Csv)
    }

    pub fn parse(text: &str) -> Result<Self, AppError> {
        match text {
            "k_series" => Ok(PosProduct::KSeries),
            "x_series" => Ok(PosProduct::XSeries),
            "csv" => Ok(PosProduct::Csv),
            other => Err(AppError::new(
                ErrorCode::ValidationFailed,
                format!("unknown POS product `{other}`; use `k_series`, `x_series` or `csv`"),
            )),
        }
    }

    /// A product that is connected to Lightspeed (integrations and syncs); CSV is refused.
    pub fn parse_lightspeed(text: &str) -> Result<Self, AppError> {
        match text {
            "csv" => Err(AppError::new(
                ErrorCode::ValidationFailed,
                "`csv` is not a Lightspeed product: CSV sales arrive through `/imports`; use `k_series` or `x_series`",
            )),
            other => Self::parse(other),
        }
    }
}

impl std::fmt::Display for PosProduct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

//! The Lightspeed products a company can connect, one integration each.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PosProduct {
    /// Lightspeed Restaurant K-Series.
    KSeries,
    /// Lightspeed Retail X-Series.
    XSeries,
}

impl PosProduct {
    pub fn as_str(self) -> &'static str {
        match self {
            PosProduct::KSeries => "k_series",
            PosProduct::XSeries => "x_series",
        }
    }

    pub fn parse(text: &str) -> Result<Self, AppError> {
        match text {
            "k_series" => Ok(PosProduct::KSeries),
            "x_series" => Ok(PosProduct::XSeries),
            other => Err(AppError::new(
                ErrorCode::ValidationFailed,
                format!("unknown POS product `{other}`; use `k_series` or `x_series`"),
            )),
        }
    }
}

impl std::fmt::Display for PosProduct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

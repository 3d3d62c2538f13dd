//! Exact decimal formatting for the wire: K-Series Financial money is a decimal *string* with a
//! fixed scale, Items and X-Series money is a JSON *number*; neither ever passes through a float.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};

/// Rounds half-even to `dp` places (Lightspeed's documented rounding for payments).
pub fn round(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven)
}

/// Formats with exactly `dp` decimal places, e.g. `fixed(1, 3)` = `"1.000"`.
pub fn fixed(d: Decimal, dp: u32) -> String {
    let mut r = round(d, dp);
    r.rescale(dp);
    r.to_string()
}

/// A decimal that serialises as a bare JSON number with its exact digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num(pub Decimal);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.0.normalize().to_string();
        let raw =
            serde_json::value::RawValue::from_string(text).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

/// A JSON number written verbatim (e.g. `2.0` for a double-typed count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawNum(pub String);

impl Serialize for RawNum {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.0.clone())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

/// Parses a decimal from a string (used by control bodies and tests).
pub fn parse(s: &str) -> Option<Decimal> {
    s.trim().parse::<Decimal>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn fixed_scale_and_half_even() {
        assert_eq!(fixed(Decimal::ONE, 3), "1.000");
        assert_eq!(
            fixed(Decimal::from_str("2.345").unwrap_or_default(), 2),
            "2.34"
        );
        assert_eq!(
            fixed(Decimal::from_str("2.355").unwrap_or_default(), 2),
            "2.36"
        );
    }

    #[test]
    fn num_is_a_json_number() {
        let v = serde_json::to_string(&Num(Decimal::from_str("4.347830").unwrap_or_default()))
            .unwrap_or_default();
        assert_eq!(v, "4.34783");
        let v = serde_json::to_string(&RawNum("2.0".into())).unwrap_or_default();
        assert_eq!(v, "2.0");
    }
}

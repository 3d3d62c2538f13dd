//! Exact money and quantities. Never floats: values travel as decimal strings and are
//! rounded only where a rule says so, half-even to the currency's minor unit.

use std::fmt;
use std::ops::Neg;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecimalError {
    #[error("`{0}` is not a decimal number; send values as strings such as \"12.50\" (pattern {DECIMAL_PATTERN})")]
    NotDecimal(String),
    #[error("{0} is a floating-point JSON number, which cannot be exact; send it as a string such as \"12.50\"")]
    Float(String),
}

/// The only decimal text accepted: an optional minus, digits, optionally a point and digits.
/// The OpenAPI document states the same pattern.
pub const DECIMAL_PATTERN: &str = "^-?[0-9]{1,28}(\\.[0-9]{1,28})?$";

/// Longest decimal text read (28 significant digits, a point and a sign).
const DECIMAL_TEXT_MAX: usize = 60;

/// Parses a decimal string exactly and strictly ([`DECIMAL_PATTERN`]): no scientific
/// notation, no `+`, spaces or `_`, no silent precision loss.
pub fn parse_decimal(text: &str) -> Result<Decimal, DecimalError> {
    let refuse = || DecimalError::NotDecimal(shorten(text));
    if text.len() > DECIMAL_TEXT_MAX {
        return Err(refuse());
    }
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !fraction.is_none_or(digits) {
        return Err(refuse());
    }
    Decimal::from_str_exact(text).map_err(|_| refuse())
}

/// Error messages quote at most the start of what was sent.
fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// Bounds on numbers that come from outside (admin API bodies and queries). They keep every
/// product the engine forms (quantity × mapping × recipe lines × trim factors) far inside the
/// 28-digit range for realistic nesting; what still overflows is refused by checked
/// arithmetic with `value_out_of_range`, never a panic.
pub mod bounds {
    use rust_decimal::Decimal;

    /// Largest quantity accepted (receipts, recipe lines, mappings, explosions): 10⁹.
    pub const QUANTITY_MAX: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
    /// Largest money value accepted (receipt values): 10¹².
    pub const MONEY_MAX: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);
    /// Most decimal places accepted in a quantity or value.
    pub const SCALE_MAX: u32 = 6;
    /// Most decimal places in a trim percentage (so 1 / (1 − trim) stays ≤ 10⁴).
    pub const TRIM_SCALE_MAX: u32 = 2;
}

/// Decimals of a currency's minor unit (ISO 4217): 0 for the yen and its peers, 3 for the
/// dinars, 2 otherwise.
pub fn minor_units(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Checks an outside number against a bound and [`bounds::SCALE_MAX`]; the message names the
/// field and the limit.
pub fn check_bounds(
    field: &str,
    value: Decimal,
    max: Decimal,
    max_scale: u32,
) -> Result<Decimal, OutOfRange> {
    if value.abs() > max {
        return Err(OutOfRange(format!(
            "`{field}` must be at most {max} in size"
        )));
    }
    if value.normalize().scale() > max_scale {
        return Err(OutOfRange(format!(
            "`{field}` may have at most {max_scale} decimal places"
        )));
    }
    Ok(value)
}

/// A number outside its documented bounds, or a computation that would leave the exact range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OutOfRange(pub String);

impl OutOfRange {
    pub fn computing(what: &str) -> Self {
        OutOfRange(format!("{what} is beyond the exact decimal range"))
    }
}

impl From<OutOfRange> for crate::error::AppError {
    fn from(err: OutOfRange) -> Self {
        crate::error::AppError::new(crate::error::ErrorCode::ValueOutOfRange, err.0)
    }
}

/// Accepts a JSON string or integer; a float is refused because it may already be inexact.
fn deserialize_exact<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    struct Exact;
    impl de::Visitor<'_> for Exact {
        type Value = Decimal;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a decimal number as a string, e.g. \"12.50\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            parse_decimal(v).map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
            Err(E::custom(DecimalError::Float(v.to_string())))
        }
    }
    deserializer.deserialize_any(Exact)
}

macro_rules! exact_decimal {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub Decimal);

        impl $name {
            pub const ZERO: $name = $name(Decimal::ZERO);
            pub fn value(self) -> Decimal {
                self.0
            }
            pub fn is_zero(self) -> bool {
                self.0.is_zero()
            }
            pub fn is_negative(self) -> bool {
                self.0.is_sign_negative() && !self.0.is_zero()
            }
        }
        impl FromStr for $name {
            type Err = DecimalError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_decimal(s).map($name)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                deserialize_exact(d).map($name)
            }
        }
        impl Neg for $name {
            type Output = $name;
            fn neg(self) -> $name {
                $name(-self.0)
            }
        }
        impl $name {
            /// `self + rhs`, or `None` beyond the decimal range (values from outside can be
            /// large; `+` would panic).
            pub fn checked_add(self, rhs: $name) -> Option<$name> {
                self.0.checked_add(rhs.0).map($name)
            }
            pub fn checked_sub(self, rhs: $name) -> Option<$name> {
                self.0.checked_sub(rhs.0).map($name)
            }
            /// The checked sum of `items`.
            pub fn checked_sum(items: impl IntoIterator<Item = $name>) -> Option<$name> {
                items
                    .into_iter()
                    .try_fold($name::ZERO, |total, item| total.checked_add(item))
            }
        }
    };
}

exact_decimal!(Money, "An amount of money in the location's currency.");
exact_decimal!(
    Quantity,
    "A quantity of an item or ingredient in its own unit."
);

impl Money {
    /// Half-even (banker's) rounding to `minor_units` decimals, the rule Lightspeed uses.
    pub fn round_to_minor(self, minor_units: u32) -> Money {
        Money(
            self.0
                .round_dp_with_strategy(minor_units, RoundingStrategy::MidpointNearestEven),
        )
    }

    /// Cost of `quantity` at `unit_cost`, unrounded (round once, at the posting); `None`
    /// beyond the decimal range.
    pub fn times(self, quantity: Quantity) -> Option<Money> {
        self.0.checked_mul(quantity.0).map(Money)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn rounds_half_even_to_the_minor_unit() {
        assert_eq!(m("2.345").round_to_minor(2), m("2.34"));
        assert_eq!(m("2.355").round_to_minor(2), m("2.36"));
        assert_eq!(m("-2.345").round_to_minor(2), m("-2.34"));
        assert_eq!(m("100").round_to_minor(0), m("100"));
    }

    #[test]
    fn sums_are_exact_where_floats_are_not() {
        let total = Money::checked_sum(std::iter::repeat_n(m("0.10"), 3));
        assert_eq!(total, Some(m("0.30")));
        assert_eq!(m("0.1").checked_add(m("0.2")), Some(m("0.3")));
    }

    #[test]
    fn arithmetic_beyond_the_range_is_none_not_a_panic() {
        let max = m("79228162514264337593543950335");
        assert_eq!(max.checked_add(m("1")), None);
        assert_eq!((-max).checked_sub(m("1")), None);
        assert_eq!(Money::checked_sum([max, max]), None);
        assert_eq!(max.times(Quantity(Decimal::TWO)), None);
        assert_eq!(
            m("2.5").times(Quantity(Decimal::TWO)),
            Some(m("5")),
            "in range stays exact"
        );
    }

    #[test]
    fn decimal_text_is_read_strictly() {
        for good in ["0", "10", "-1", "12.50", "0.0000000000000000000000000001"] {
            assert!(parse_decimal(good).is_ok(), "{good}");
        }
        for bad in [
            "1_0", "+1", " 1", "1 ", "", "-", ".5", "5.", "1e3", "1E3", "0x10", "1,5", "--1",
            "1.2.3", "٣", "NaN", "inf",
        ] {
            assert!(parse_decimal(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(parse_decimal(&"9".repeat(29)).is_err(), "beyond 28 digits");
        assert!(parse_decimal(&"1".repeat(5000)).is_err());
        let message = parse_decimal(&"1".repeat(5000)).unwrap_err().to_string();
        assert!(
            message.len() < 200,
            "errors quote only the start: {message}"
        );
    }

    #[test]
    fn bounds_name_the_field_and_the_limit() {
        let q = |s: &str| s.parse::<Decimal>().unwrap();
        assert!(check_bounds("quantity", q("1000000000"), bounds::QUANTITY_MAX, 6).is_ok());
        let err = check_bounds("quantity", q("1000000000.5"), bounds::QUANTITY_MAX, 6)
            .unwrap_err()
            .0;
        assert!(
            err.contains("`quantity`") && err.contains("1000000000"),
            "{err}"
        );
        assert!(check_bounds("value", q("-1000000000001"), bounds::MONEY_MAX, 6).is_err());
        assert!(check_bounds("value", q("0.1234567"), bounds::MONEY_MAX, 6).is_err());
        assert!(
            check_bounds("value", q("0.1234560"), bounds::MONEY_MAX, 6).is_ok(),
            "trailing zeros are not precision"
        );
        assert_eq!(bounds::MONEY_MAX, q("1000000000000"));
    }

    #[test]
    fn json_accepts_strings_and_integers_and_refuses_floats() {
        assert_eq!(
            serde_json::from_str::<Money>("\"12.50\"").unwrap(),
            m("12.5")
        );
        assert_eq!(
            serde_json::from_str::<Quantity>("3").unwrap(),
            Quantity(Decimal::from(3))
        );
        let err = serde_json::from_str::<Money>("12.5")
            .unwrap_err()
            .to_string();
        assert!(err.contains("floating-point"), "{err}");
        assert!(serde_json::from_str::<Money>("\"1e3\"").is_err());
        assert!(serde_json::from_str::<Money>("\"abc\"").is_err());
        assert_eq!(serde_json::to_string(&m("12.50")).unwrap(), "\"12.50\"");
    }

    #[test]
    fn cost_is_quantity_times_unit_cost() {
        let cost = m("1.333").times(Quantity(Decimal::new(3, 0))).unwrap();
        assert_eq!(cost, m("3.999"));
        assert_eq!(cost.round_to_minor(2), m("4.00"));
    }
}

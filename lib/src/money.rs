//! Exact money and quantities. Never floats: values travel as decimal strings and are
//! rounded only where a rule says so, half-even to the currency's minor unit.

use std::fmt;
use std::ops::{Add, Mul, Neg, Sub};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecimalError {
    #[error("`{0}` is not a decimal number; send values as strings such as \"12.50\"")]
    NotDecimal(String),
    #[error("{0} is a floating-point JSON number, which cannot be exact; send it as a string such as \"12.50\"")]
    Float(String),
}

/// Parses a decimal string exactly (no scientific notation, no silent precision loss).
pub fn parse_decimal(text: &str) -> Result<Decimal, DecimalError> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.contains(['e', 'E']) {
        return Err(DecimalError::NotDecimal(text.to_string()));
    }
    Decimal::from_str_exact(trimmed).map_err(|_| DecimalError::NotDecimal(text.to_string()))
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
        impl Add for $name {
            type Output = $name;
            fn add(self, rhs: $name) -> $name {
                $name(self.0 + rhs.0)
            }
        }
        impl Sub for $name {
            type Output = $name;
            fn sub(self, rhs: $name) -> $name {
                $name(self.0 - rhs.0)
            }
        }
        impl Neg for $name {
            type Output = $name;
            fn neg(self) -> $name {
                $name(-self.0)
            }
        }
        impl std::iter::Sum for $name {
            fn sum<I: Iterator<Item = $name>>(iter: I) -> $name {
                iter.fold($name::ZERO, Add::add)
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

    /// Cost of `quantity` at `unit_cost`, unrounded (round once, at the posting).
    pub fn times(self, quantity: Quantity) -> Money {
        Money(self.0 * quantity.0)
    }
}

impl Mul for Quantity {
    type Output = Quantity;
    fn mul(self, rhs: Quantity) -> Quantity {
        Quantity(self.0 * rhs.0)
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
        let total: Money = std::iter::repeat_n(m("0.10"), 3).sum();
        assert_eq!(total, m("0.30"));
        assert_eq!(m("0.1") + m("0.2"), m("0.3"));
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
        let cost = m("1.333").times(Quantity(Decimal::new(3, 0)));
        assert_eq!(cost, m("3.999"));
        assert_eq!(cost.round_to_minor(2), m("4.00"));
    }
}

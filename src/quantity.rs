//! Usage quantities: positive decimals, sent over the API as a JSON string
//! (`"0.0031"`, exact) or a JSON number (`1`, read through its shortest decimal
//! form, so send strings when more than 15 significant digits matter).

use rust_decimal::Decimal;
use std::str::FromStr;

/// Largest quantity one event may carry; larger values are almost certainly a unit
/// mistake (bytes sent as a GB meter) and would overflow aggregates sooner.
pub const MAX_QUANTITY: i64 = 1_000_000_000_000;
/// Most decimal places a quantity may have.
pub const MAX_SCALE: u32 = 12;

/// A strictly positive usage quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(Decimal);

/// Why a quantity was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Not a decimal number.
    #[error("must be a decimal number, as a JSON number or string")]
    NotANumber,
    /// Zero or negative.
    #[error("must be greater than 0")]
    NotPositive,
    /// Above [`MAX_QUANTITY`].
    #[error("must be at most {MAX_QUANTITY}")]
    TooLarge,
    /// More than [`MAX_SCALE`] decimals.
    #[error("must have at most {MAX_SCALE} decimal places")]
    TooPrecise,
    /// A fraction for a meter that counts whole units.
    #[error("must be a whole number for a counting meter")]
    NotWhole,
}

impl Quantity {
    /// Validates a decimal.
    ///
    /// # Errors
    /// [`QuantityError`] when it is not positive, too large or too precise.
    pub fn new(value: Decimal) -> Result<Self, QuantityError> {
        if value <= Decimal::ZERO {
            return Err(QuantityError::NotPositive);
        }
        if value > Decimal::from(MAX_QUANTITY) {
            return Err(QuantityError::TooLarge);
        }
        let value = value.normalize();
        if value.scale() > MAX_SCALE {
            return Err(QuantityError::TooPrecise);
        }
        Ok(Quantity(value))
    }

    /// Parses a decimal string such as `"12.5"` (no exponent, no thousands separator).
    ///
    /// # Errors
    /// [`QuantityError`] as for [`Quantity::new`], or `NotANumber`.
    pub fn parse(s: &str) -> Result<Self, QuantityError> {
        let d = Decimal::from_str(s.trim()).map_err(|_| QuantityError::NotANumber)?;
        Quantity::new(d)
    }

    /// Reads a JSON string or number.
    ///
    /// # Errors
    /// [`QuantityError`]; `NotANumber` for any other JSON type.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, QuantityError> {
        match value {
            serde_json::Value::String(s) => Quantity::parse(s),
            serde_json::Value::Number(n) => {
                let text = n.to_string();
                let d = Decimal::from_str(&text)
                    .or_else(|_| Decimal::from_scientific(&text))
                    .map_err(|_| QuantityError::NotANumber)?;
                Quantity::new(d)
            }
            _ => Err(QuantityError::NotANumber),
        }
    }

    /// Refuses a fraction (for `count` meters, which count whole units).
    ///
    /// # Errors
    /// [`QuantityError::NotWhole`].
    pub fn whole(self) -> Result<Self, QuantityError> {
        if self.0.fract().is_zero() {
            Ok(self)
        } else {
            Err(QuantityError::NotWhole)
        }
    }

    /// The value.
    pub fn get(self) -> Decimal {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_strings_and_numbers_exactly() {
        assert_eq!(
            Quantity::from_json(&json!("0.0031"))
                .expect("test fixture")
                .get()
                .to_string(),
            "0.0031"
        );
        assert_eq!(
            Quantity::from_json(&json!(1)).expect("test fixture").get(),
            Decimal::ONE
        );
        assert_eq!(
            Quantity::from_json(&json!(0.1))
                .expect("test fixture")
                .get()
                .to_string(),
            "0.1"
        );
        assert_eq!(
            Quantity::from_json(&json!(1e3))
                .expect("test fixture")
                .get(),
            Decimal::from(1000)
        );
    }

    #[test]
    fn refuses_bad_quantities() {
        assert_eq!(
            Quantity::from_json(&json!(0)),
            Err(QuantityError::NotPositive)
        );
        assert_eq!(
            Quantity::from_json(&json!("-1")),
            Err(QuantityError::NotPositive)
        );
        assert_eq!(
            Quantity::from_json(&json!("abc")),
            Err(QuantityError::NotANumber)
        );
        assert_eq!(
            Quantity::from_json(&json!(true)),
            Err(QuantityError::NotANumber)
        );
        assert_eq!(
            Quantity::from_json(&json!(null)),
            Err(QuantityError::NotANumber)
        );
        assert_eq!(
            Quantity::from_json(&json!("1e30")),
            Err(QuantityError::NotANumber)
        );
        assert_eq!(
            Quantity::from_json(&json!(1e13)),
            Err(QuantityError::TooLarge)
        );
        assert_eq!(
            Quantity::parse("0.0000000000001"),
            Err(QuantityError::TooPrecise)
        );
        assert_eq!(
            Quantity::parse("1.5").expect("test fixture").whole(),
            Err(QuantityError::NotWhole)
        );
        assert!(Quantity::parse("2.000")
            .expect("test fixture")
            .whole()
            .is_ok());
    }
}

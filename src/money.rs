//! Money: an exact decimal amount with its ISO-4217 currency.
//!
//! Amounts are [`rust_decimal::Decimal`], never floating point. Rounding happens
//! once, explicitly, with [`Money::round`]: half away from zero to the currency's
//! minor unit, which is how Stripe rounds amounts it computes
//! (<https://docs.stripe.com/currencies#zero-decimal>).

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Currencies an operator may credit an account in (admin panel).
pub const CREDIT_CURRENCIES: [&str; 6] = ["USD", "EUR", "GBP", "CAD", "AUD", "JPY"];

/// An ISO-4217 currency code (three upper-case ASCII letters) and its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

/// Why a currency code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ISO-4217 currency code (three letters, e.g. USD)")]
pub struct CurrencyError(pub String);

impl Currency {
    /// US dollar, the currency of every shipped catalog.
    pub const USD: Currency = Currency(*b"USD");

    /// Parses a three-letter code, case-insensitively (`"usd"` → `USD`).
    ///
    /// # Errors
    /// [`CurrencyError`] when the input is not exactly three ASCII letters.
    pub fn parse(code: &str) -> Result<Self, CurrencyError> {
        let bytes = code.trim().as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(CurrencyError(code.to_string()));
        }
        let mut out = [0u8; 3];
        for (o, b) in out.iter_mut().zip(bytes) {
            *o = b.to_ascii_uppercase();
        }
        Ok(Currency(out))
    }

    /// The code, e.g. `"USD"`.
    pub fn code(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Decimal places of the minor unit: 0 for zero-decimal currencies (JPY, KRW, …
    /// per Stripe's list), 3 for the three-decimal ones (BHD, JOD, KWD, OMR, TND),
    /// 2 otherwise.
    pub fn minor_unit_scale(&self) -> u32 {
        match self.code() {
            "BIF" | "CLP" | "DJF" | "GNF" | "JPY" | "KMF" | "KRW" | "MGA" | "PYG" | "RWF"
            | "UGX" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "JOD" | "KWD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }

    /// The usual symbol for display, or the code followed by a space.
    pub fn symbol(&self) -> String {
        match self.code() {
            "USD" => "$".into(),
            "EUR" => "€".into(),
            "GBP" => "£".into(),
            "JPY" => "¥".into(),
            other => format!("{other} "),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Currency::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_string()
    }
}

/// An amount of money in a currency. The amount may carry more decimals than the
/// currency's minor unit while a computation is in progress; call [`Money::round`]
/// once at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// The decimal amount in major units (dollars, not cents).
    pub amount: Decimal,
    /// The amount's currency.
    pub currency: Currency,
}

impl Money {
    /// A new amount in major units.
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    /// Zero in the given currency.
    pub fn zero(currency: Currency) -> Self {
        Money::new(Decimal::ZERO, currency)
    }

    /// Rounds half away from zero to the currency's minor unit (Stripe's rule).
    pub fn round(self) -> Self {
        let amount = self.amount.round_dp_with_strategy(
            self.currency.minor_unit_scale(),
            RoundingStrategy::MidpointAwayFromZero,
        );
        Money { amount, ..self }
    }

    /// The amount in minor units (cents for USD), after rounding.
    pub fn minor_units(self) -> Option<i64> {
        let scale = self.currency.minor_unit_scale();
        let rounded = self.round().amount * Decimal::from(10i64.pow(scale));
        rounded.trunc().to_string().parse().ok()
    }

    /// Display form such as `$19.00`, `¥1200` or `BHD 1.250`, rounded.
    pub fn display(self) -> String {
        let rounded = self.round();
        let scale = self.currency.minor_unit_scale() as usize;
        let sign = if rounded.amount.is_sign_negative() && !rounded.amount.is_zero() {
            "-"
        } else {
            ""
        };
        format!(
            "{sign}{}{:.*}",
            self.currency.symbol(),
            scale,
            rounded.amount.abs()
        )
    }

    /// [`Money::display`] of `amount` in the currency with ISO code `code` as
    /// stored (an invoice's `currency`); an unknown code shows as `12.50 XYZ`.
    pub fn display_in(amount: Decimal, code: &str) -> String {
        Currency::parse(code).map_or_else(|_| format!("{amount} {code}"), |c| Money::new(amount, c).display())
    }

    /// A short display that drops a zero minor part: `$19`, `$49.99`.
    pub fn display_short(self) -> String {
        let rounded = self.round();
        if rounded.amount.fract().is_zero() {
            format!("{}{}", self.currency.symbol(), rounded.amount.trunc())
        } else {
            rounded.display()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().expect("test literal")
    }

    #[test]
    fn currency_parses_case_insensitively_and_refuses_junk() {
        assert_eq!(Currency::parse("usd").expect("test fixture"), Currency::USD);
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("U$D").is_err());
        assert!(Currency::parse("USDT").is_err());
    }

    #[test]
    fn rounds_half_away_from_zero_to_the_minor_unit() {
        let usd = |s| Money::new(dec(s), Currency::USD);
        assert_eq!(usd("0.125").round().amount, dec("0.13"));
        assert_eq!(usd("-0.125").round().amount, dec("-0.13"));
        assert_eq!(usd("0.124").round().amount, dec("0.12"));
        let jpy = Money::new(dec("100.5"), Currency::parse("JPY").expect("test fixture"));
        assert_eq!(jpy.round().amount, dec("101"));
        let bhd = Money::new(dec("1.2345"), Currency::parse("BHD").expect("test fixture"));
        assert_eq!(bhd.round().amount, dec("1.235"));
    }

    #[test]
    fn displays_with_symbol_and_minor_unit() {
        assert_eq!(Money::new(dec("19"), Currency::USD).display(), "$19.00");
        assert_eq!(Money::new(dec("19"), Currency::USD).display_short(), "$19");
        assert_eq!(
            Money::new(dec("49.999"), Currency::USD).display_short(),
            "$50"
        );
        assert_eq!(Money::new(dec("-3.5"), Currency::USD).display(), "-$3.50");
        assert_eq!(
            Money::new(dec("63.19"), Currency::USD).minor_units(),
            Some(6319)
        );
    }
}

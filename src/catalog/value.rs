//! A plan's value for a feature, and its JSON form (stored in PostgreSQL and sent by
//! `/api/v1/entitlements`).

use super::FeatureKind;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::str::FromStr;

/// A feature's value in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FeatureValue {
    /// For boolean features.
    Bool(bool),
    /// For numeric and rate features; `None` is unlimited.
    Number(Option<Decimal>),
    /// For enum features: one of the feature's values.
    Text(String),
}

impl FeatureValue {
    /// Whether the value grants anything: false for `false`, `0` (API.md: "allowed is
    /// false only for false / 0 / a missing feature").
    pub fn grants(&self) -> bool {
        match self {
            FeatureValue::Bool(b) => *b,
            FeatureValue::Number(Some(n)) => !n.is_zero(),
            FeatureValue::Number(None) => true,
            FeatureValue::Text(_) => true,
        }
    }

    /// JSON form: a boolean, a number (an integer when whole, else a decimal
    /// string), `null` for unlimited, or the enum value as a string.
    pub fn to_json(&self) -> Value {
        match self {
            FeatureValue::Bool(b) => Value::Bool(*b),
            FeatureValue::Number(None) => Value::Null,
            FeatureValue::Number(Some(n)) => decimal_to_json(*n),
            FeatureValue::Text(s) => Value::String(s.clone()),
        }
    }

    /// Reads the JSON form for a feature of `kind`; numbers may also be written as
    /// decimal strings and unlimited as `"unlimited"`.
    ///
    /// # Errors
    /// A sentence saying what was expected.
    pub fn from_json(kind: &FeatureKind, value: &Value) -> Result<Self, String> {
        match (kind, value) {
            (FeatureKind::Boolean, Value::Bool(b)) => Ok(FeatureValue::Bool(*b)),
            (FeatureKind::Boolean, _) => Err("expected true or false".into()),
            (FeatureKind::Numeric { .. } | FeatureKind::Rate { .. }, v) => {
                parse_limit_number(v).map(FeatureValue::Number)
            }
            (FeatureKind::Enum { values }, Value::String(s)) if values.contains(s) => {
                Ok(FeatureValue::Text(s.clone()))
            }
            (FeatureKind::Enum { values }, _) => {
                Err(format!("expected one of {}", values.join(", ")))
            }
        }
    }
}

/// A JSON number for whole decimals, else the decimal's string.
pub fn decimal_to_json(n: Decimal) -> Value {
    let n = n.normalize();
    if n.fract().is_zero() {
        if let Ok(i) = i64::from_str(&n.trunc().to_string()) {
            return Value::from(i);
        }
    }
    Value::String(n.to_string())
}

/// Reads a non-negative number written as an integer or a decimal string, or
/// unlimited written as `"unlimited"` or `null`. Floating-point numbers are refused:
/// write `"0.5"`, not `0.5`, so no value is rounded on the way in.
///
/// # Errors
/// A sentence saying what was expected.
pub fn parse_limit_number(v: &Value) -> Result<Option<Decimal>, String> {
    let d = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.eq_ignore_ascii_case("unlimited") => return Ok(None),
        Value::String(s) => {
            Decimal::from_str(s.trim()).map_err(|_| format!("`{s}` is not a decimal number"))?
        }
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            Decimal::from_str(&n.to_string()).map_err(|_| "number out of range".to_string())?
        }
        Value::Number(n) => {
            return Err(format!(
                "write decimals as strings (\"{n}\") so they are read exactly"
            ));
        }
        _ => return Err("expected a number or \"unlimited\"".into()),
    };
    if d.is_sign_negative() {
        return Err("must not be negative".into());
    }
    Ok(Some(d.normalize()))
}

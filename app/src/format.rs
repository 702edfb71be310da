//! Display helpers shared by the pages.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tollgate::limits::LimitState;

/// A quantity without trailing zeros, with thousands separators (`12,500`,
/// `0.25`).
pub fn quantity(d: Decimal) -> String {
    let d = d.normalize();
    let text = d.abs().to_string();
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if d.is_sign_negative() && !d.is_zero() {
        "-"
    } else {
        ""
    };
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// An amount with its currency's symbol, its minor unit's places and thousands
/// separators (`$1,234.50`, `-$30.00`): [`tollgate::money::Money::display`] with
/// the digits grouped, for the long figures of the admin analytics.
pub fn money(amount: Decimal, currency: &tollgate::money::Currency) -> String {
    let scale = currency.minor_unit_scale();
    // Rounded the one way money is rounded (half away from zero), then grouped.
    let fixed = tollgate::money::Money::new(amount.abs(), *currency)
        .round()
        .amount;
    let text = format!("{fixed:.prec$}", prec = scale as usize);
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let grouped = quantity(Decimal::from_str_exact(int).unwrap_or_default());
    let sign = if amount.is_sign_negative() && !fixed.is_zero() {
        "-"
    } else {
        ""
    };
    match frac {
        Some(f) => format!("{sign}{}{grouped}.{f}", currency.symbol()),
        None => format!("{sign}{}{grouped}", currency.symbol()),
    }
}

/// A percentage to one place with a no-break space (`12.5 %`), or `—` when there
/// is none.
pub fn percent(p: Option<Decimal>) -> String {
    p.map_or_else(|| "—".to_string(), |p| format!("{:.1}\u{a0}%", p))
}

/// A feature's value for display: `true`, `25`, `openai`, or `unlimited`.
pub fn feature_value(v: &tollgate::catalog::value::FeatureValue) -> String {
    match v.to_json() {
        serde_json::Value::Null => "unlimited".to_string(),
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// The plural of a catalog unit for display: `query` → `queries`, `call` →
/// `calls`, abbreviations such as `GB` unchanged; one stays singular.
pub fn unit(unit: &str, amount: Decimal) -> String {
    let abbreviation = unit.chars().any(|c| c.is_ascii_uppercase()) || unit.len() <= 2;
    if amount == Decimal::ONE || abbreviation || unit.is_empty() {
        return unit.to_string();
    }
    let consonant_y = unit.len() > 1
        && unit.ends_with('y')
        && !unit[..unit.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    if consonant_y {
        format!("{}ies", &unit[..unit.len() - 1])
    } else if unit.ends_with(['s', 'x']) || unit.ends_with("ch") || unit.ends_with("sh") {
        format!("{unit}es")
    } else {
        format!("{unit}s")
    }
}

/// The first letter upper case: `member` → `Member`.
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// A UTC date such as `22 Nov 2026`.
pub fn date(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y").to_string()
}

/// A UTC time such as `22 Nov 2026, 10:30 UTC`.
pub fn datetime(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// Human label of a limit state.
pub fn state_label(s: LimitState) -> &'static str {
    match s {
        LimitState::Ok => "OK",
        LimitState::Warning => "Warning",
        LimitState::LimitReached => "Limit reached",
        LimitState::Blocked => "Blocked",
    }
}

/// Tailwind classes of a meter's bar by state.
pub fn bar_class(s: LimitState) -> &'static str {
    match s {
        LimitState::Ok => "bg-emerald-500",
        LimitState::Warning => "bg-amber-500",
        LimitState::LimitReached => "bg-orange-600",
        LimitState::Blocked => "bg-red-600",
    }
}

/// Tailwind classes of a state badge.
pub fn badge_class(s: LimitState) -> &'static str {
    match s {
        LimitState::Ok => "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
        LimitState::Warning => "bg-amber-50 text-amber-800 ring-amber-600/20",
        LimitState::LimitReached => "bg-orange-50 text-orange-800 ring-orange-600/20",
        LimitState::Blocked => "bg-red-50 text-red-800 ring-red-600/20",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_percent() {
        let usd = tollgate::money::Currency::USD;
        assert_eq!(money(Decimal::new(123450, 2), &usd), "$1,234.50");
        assert_eq!(money(Decimal::new(-30, 0), &usd), "-$30.00");
        assert_eq!(
            money(
                Decimal::ZERO,
                &tollgate::money::Currency::parse("JPY").unwrap()
            ),
            "¥0"
        );
        assert_eq!(percent(Some(Decimal::new(1250, 2))), "12.5\u{a0}%");
        assert_eq!(percent(None), "—");
    }

    #[test]
    fn quantities_group_thousands_and_drop_zeros() {
        assert_eq!(quantity("12500".parse().expect("test fixture")), "12,500");
        assert_eq!(
            quantity("1234567.50".parse().expect("test fixture")),
            "1,234,567.5"
        );
        assert_eq!(quantity("0.25".parse().expect("test fixture")), "0.25");
        assert_eq!(quantity("100".parse().expect("test fixture")), "100");
        assert_eq!(quantity("-1000".parse().expect("test fixture")), "-1,000");
    }

    #[test]
    fn units_pluralise() {
        let two = Decimal::TWO;
        assert_eq!(unit("query", two), "queries");
        assert_eq!(unit("query", Decimal::ONE), "query");
        assert_eq!(unit("day", two), "days");
        assert_eq!(unit("call", two), "calls");
        assert_eq!(unit("GB", two), "GB");
        assert_eq!(unit("box", two), "boxes");
    }

    #[test]
    fn dates_are_utc() {
        let t: DateTime<Utc> = "2026-11-02T09:05:00Z".parse().expect("test fixture");
        assert_eq!(date(t), "2 Nov 2026");
        assert_eq!(datetime(t), "2 Nov 2026, 09:05 UTC");
    }
}

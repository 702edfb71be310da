//! Support tools: extend a trial, credit an account, send a password-reset link.

use super::{audit, require_super_admin};
use crate::db;
use crate::money::{Currency, CREDIT_CURRENCIES};
use crate::service::{password_reset, Actor, Error, Tollgate};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use std::str::FromStr;
use uuid::Uuid;

/// Longest trial extension at once, in days.
pub const MAX_TRIAL_EXTENSION_DAYS: u32 = 90;
/// Longest credit reason, in characters.
pub const MAX_CREDIT_REASON_CHARS: usize = 500;

/// Extends the account's running trial by `days` (1–[`MAX_TRIAL_EXTENSION_DAYS`]).
///
/// The trial's end moves by `days`. In Tollgate's subscription model the billing
/// periods are not stored: they step from the cycle anchor (see
/// [`crate::period`]), which a trial extension leaves alone so that usage periods
/// and limits are not reset; the first paid period is the one containing the new
/// trial end. Returns the new trial end. Audited as `subscription.trial_extended`.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin actor; [`Error::Invalid`] (field `days`);
/// [`Error::Conflict`] when the account has no `trialing` subscription.
pub async fn extend_trial(
    t: &Tollgate,
    actor: &Actor,
    account_id: Uuid,
    days: i64,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Error> {
    require_super_admin(&t.pool, actor).await?;
    if !(1..=i64::from(MAX_TRIAL_EXTENSION_DAYS)).contains(&days) {
        return Err(Error::invalid(
            "days",
            format!("Extend by 1 to {MAX_TRIAL_EXTENSION_DAYS} days."),
        ));
    }
    let mut tx = t.pool.begin().await?;
    db::accounts::lock_for_cycle_change(&mut *tx, account_id).await?;
    let sub = db::subscriptions::live_for_account(&mut *tx, account_id)
        .await?
        .ok_or_else(|| {
            Error::Conflict(
                "This account has no subscription, so there is no trial to extend.".into(),
            )
        })?;
    let trial_end = match (sub.status(), sub.trial_end) {
        (crate::subscription::Status::Trialing, Some(end)) => end,
        (status, _) => {
            return Err(Error::Conflict(format!(
                "Only a trial can be extended; this subscription is {status}."
            )))
        }
    };
    // A trial that already ended but was not yet moved to active extends from now.
    let new_end = trial_end.max(now) + Duration::days(days);
    db::subscriptions::set_trial_end(&mut *tx, sub.id, new_end).await?;
    audit(
        &mut *tx,
        actor,
        "subscription.trial_extended",
        ("subscription", sub.id.to_string()),
        Some(account_id),
        serde_json::json!({ "days": days, "from_trial_end": trial_end, "to_trial_end": new_end, "plan": sub.plan_key }),
    )
    .await?;
    db::usage::notify_changed(&mut *tx, &[account_id]).await?;
    tx.commit().await?;
    t.cache.invalidate(&[account_id]);
    Ok(new_end)
}

/// A validated credit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// Positive amount with at most the currency's minor-unit decimals.
    pub amount: Decimal,
    /// One of [`CREDIT_CURRENCIES`].
    pub currency: Currency,
    /// Why (1–[`MAX_CREDIT_REASON_CHARS`] characters).
    pub reason: String,
}

/// Checks a credit as typed: amount (`12.50`), currency code and reason.
///
/// # Errors
/// [`Error::Invalid`] for field `amount`, `currency` or `reason`.
pub fn parse_credit(amount: &str, currency: &str, reason: &str) -> Result<Credit, Error> {
    let code = currency.trim().to_ascii_uppercase();
    if !CREDIT_CURRENCIES.contains(&code.as_str()) {
        return Err(Error::invalid(
            "currency",
            format!("Choose one of {}.", CREDIT_CURRENCIES.join(", ")),
        ));
    }
    let currency = Currency::parse(&code).map_err(|e| Error::invalid("currency", e.to_string()))?;
    let text = amount.trim();
    let valid_chars = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let amount = Decimal::from_str(text)
        .ok()
        .filter(|_| valid_chars)
        .ok_or_else(|| Error::invalid("amount", "Enter an amount such as 25.00."))?;
    if amount <= Decimal::ZERO {
        return Err(Error::invalid(
            "amount",
            "The amount must be more than zero.",
        ));
    }
    let scale = currency.minor_unit_scale();
    if amount.normalize().scale() > scale {
        return Err(Error::invalid(
            "amount",
            format!("{code} amounts have at most {scale} decimals."),
        ));
    }
    if amount > Decimal::from(1_000_000_000_000_i64) {
        return Err(Error::invalid("amount", "That amount is too large."));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_CREDIT_REASON_CHARS {
        return Err(Error::invalid(
            "reason",
            format!("Give a reason of at most {MAX_CREDIT_REASON_CHARS} characters."),
        ));
    }
    Ok(Credit {
        amount: amount.normalize(),
        currency,
        reason: reason.to_string(),
    })
}

/// Adds `credit` to the account's credit balance (a ledger row). Returns the
/// balance in that currency afterwards. Audited as `credit.applied`.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin actor; [`Error::NotFound`] for an unknown
/// account.
pub async fn apply_credit(
    t: &Tollgate,
    actor: &Actor,
    account_id: Uuid,
    credit: &Credit,
) -> Result<Decimal, Error> {
    let admin = require_super_admin(&t.pool, actor).await?;
    let mut tx = t.pool.begin().await?;
    db::accounts::by_id(&mut *tx, account_id)
        .await?
        .ok_or_else(|| Error::NotFound("There is no such account.".into()))?;
    let code = credit.currency.code();
    let id = db::credits::insert(
        &mut *tx,
        account_id,
        credit.amount,
        code,
        &credit.reason,
        Some(admin.id),
    )
    .await?;
    let balance = db::credits::balances(&mut *tx, account_id)
        .await?
        .into_iter()
        .find(|b| b.currency == code)
        .map_or(Decimal::ZERO, |b| b.balance);
    audit(
        &mut *tx,
        actor,
        "credit.applied",
        ("account", account_id.to_string()),
        Some(account_id),
        serde_json::json!({ "transaction": id, "amount": credit.amount.to_string(), "currency": code, "reason": credit.reason, "balance": balance.normalize().to_string() }),
    )
    .await?;
    tx.commit().await?;
    Ok(balance)
}

/// Sends `user_id` a password-reset link (see [`password_reset::send`]).
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin actor; [`Error::NotFound`];
/// [`Error::Conflict`] for a disabled user.
pub async fn send_password_reset(
    t: &Tollgate,
    actor: &Actor,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    require_super_admin(&t.pool, actor).await?;
    let user = super::user(&t.pool, user_id).await?;
    if user.disabled_at.is_some() {
        return Err(Error::Conflict(
            "This user is disabled; enable them first.".into(),
        ));
    }
    password_reset::send(t, &user, actor, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<Credit, Error>) -> String {
        match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn credits_are_checked() {
        let ok = parse_credit(" 12.50 ", "usd", " goodwill ").expect("valid");
        assert_eq!(
            (
                ok.amount.to_string().as_str(),
                ok.currency.code(),
                ok.reason.as_str()
            ),
            ("12.5", "USD", "goodwill")
        );
        assert_eq!(
            parse_credit("100", "JPY", "x").expect("valid").amount,
            Decimal::from(100)
        );
        assert_eq!(field(parse_credit("0", "USD", "x")), "amount");
        assert_eq!(field(parse_credit("-5", "USD", "x")), "amount");
        assert_eq!(field(parse_credit("1.001", "USD", "x")), "amount");
        assert_eq!(field(parse_credit("1.5", "JPY", "x")), "amount");
        assert_eq!(field(parse_credit("1e3", "USD", "x")), "amount");
        assert_eq!(field(parse_credit("abc", "USD", "x")), "amount");
        assert_eq!(field(parse_credit("5", "XYZ", "x")), "currency");
        assert_eq!(field(parse_credit("5", "USD", "  ")), "reason");
        assert_eq!(field(parse_credit("5", "USD", &"x".repeat(501))), "reason");
        assert!(
            parse_credit("1.10", "EUR", "x").is_ok(),
            "trailing zeros within the minor unit are fine"
        );
    }
}

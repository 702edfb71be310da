//! Voiding recorded usage from an account's admin page (issue 13,
//! "Corrections"): the same service as `POST /api/v1/events/void`.

use crate::error::AppError;
use leptos::prelude::*;

/// Voids the account's events stored under `keys` (idempotency keys separated by
/// commas, spaces or lines), or else those of `meter` from the start of `from`
/// to the end of `to` (UTC dates, both included), because of `reason`.
/// `confirm` must be checked: voiding cannot be undone. Answers with a redirect
/// back to the account's page, which lists the correction.
#[server(prefix = "/_fn", endpoint = "admin_void_usage")]
pub async fn void_usage(
    account_id: String,
    keys: Option<String>,
    meter: Option<String>,
    from: Option<String>,
    to: Option<String>,
    reason: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::error::FormError;
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let account_id = super::parse_id(&account_id, "account")?;
    let (keys, meter, from, to) = (
        keys.unwrap_or_default(),
        meter.unwrap_or_default(),
        from.unwrap_or_default(),
        to.unwrap_or_default(),
    );
    let keep = [
        ("keys", keys.as_str()),
        ("meter", meter.as_str()),
        ("from", from.as_str()),
        ("to", to.as_str()),
        ("reason", reason.as_str()),
    ];
    let refuse = |field: &str, message: &str| AppError::from(FormError::field(field, message)).with_values(&keep);
    let day = |s: &str, field: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
        match s.trim() {
            "" => Ok(None),
            d => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map(|d| Some(d.and_time(chrono::NaiveTime::MIN).and_utc()))
                .map_err(|_| refuse(field, "Enter a date as YYYY-MM-DD.")),
        }
    };
    let listed: Vec<String> = keys
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    let (keys, meter, from, to) = if listed.is_empty() {
        let meter = Some(meter.trim().to_string()).filter(|m| !m.is_empty());
        let from = day(&from, "from")?;
        // The last day is included.
        let to = day(&to, "to")?.map(|t| t + chrono::Duration::days(1));
        (None, meter, from, to)
    } else {
        (Some(listed), None, None, None)
    };
    let refused = |r: tollgate::refusal::Refusal| refuse(r.field, &r.message);
    let reason = tollgate::correction::Reason::parse(&reason).map_err(refused)?;
    let selection = tollgate::correction::selection(keys, meter, from, to).map_err(|r| {
        // The form's field for the keys is `keys`.
        let field = if r.field == "idempotency_keys" { "keys" } else { r.field };
        refuse(field, &r.message)
    })?;
    if confirm.is_none() {
        return Err(refuse("confirm", "Voiding cannot be undone: tick the box to confirm."));
    }
    tollgate::service::usage_corrections::void(
        &t,
        &me.actor(),
        account_id,
        &selection,
        &reason,
        chrono::Utc::now(),
    )
    .await
    .map_err(|e| AppError::from(e).with_values(&keep))?;
    leptos_axum::redirect(&super::actions::page_of_account(&t, account_id).await?);
    Ok(())
}

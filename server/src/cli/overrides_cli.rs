//! `tollgate accounts override` and `tollgate accounts overrides`: an account's
//! entitlement overrides from the command line (the same service as the admin page).

use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use tollgate::overrides::Input;
use tollgate::service::admin::overrides;
use tollgate::service::{Actor, Tollgate};
use uuid::Uuid;

/// What to override.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["meter", "feature"])))]
pub struct OverrideArgs {
    /// Account uuid, `ext:<id>`, or the e-mail of a personal account's user.
    pub account: String,
    /// The meter whose limit to override.
    #[arg(long)]
    pub meter: Option<String>,
    /// The feature whose value to override.
    #[arg(long)]
    pub feature: Option<String>,
    /// Limit: included quantity per period for the whole account, or `unlimited`.
    #[arg(long, default_value = "")]
    pub included: String,
    /// Limit: `soft` or `hard`.
    #[arg(long, default_value = "")]
    pub enforcement: String,
    /// Limit: grace past a hard limit, in percent.
    #[arg(long, default_value = "")]
    pub grace: String,
    /// Feature: the value (`true`, `25`, `unlimited`, or one of an enum's values).
    #[arg(long, default_value = "")]
    pub value: String,
    /// Why (the deal, the ticket). Required unless --remove.
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Last day it applies (UTC, `YYYY-MM-DD`); without it, until removed.
    #[arg(long)]
    pub until: Option<NaiveDate>,
    /// Remove the override instead: the plan's value applies again.
    #[arg(long)]
    pub remove: bool,
}

/// Sets or removes the override.
///
/// # Errors
/// The service's refusals (unknown meter or feature, a bad value, no reason), or
/// no such override to remove.
pub async fn set_or_remove(t: &Tollgate, account_id: Uuid, a: &OverrideArgs) -> anyhow::Result<()> {
    let (kind, key) = match (&a.meter, &a.feature) {
        (Some(m), _) => ("limit", m.as_str()),
        (None, Some(f)) => ("feature", f.as_str()),
        (None, None) => anyhow::bail!("name --meter or --feature"),
    };
    if a.remove {
        overrides::remove(t, &Actor::Cli, account_id, kind, key).await?;
        println!("account {account_id}: the {kind} override of {key} is removed; the plan's value applies");
        return Ok(());
    }
    let expires_at: Option<DateTime<Utc>> = a.until.and_then(tollgate::overrides::expiry_after);
    let input = Input {
        kind,
        key,
        included: &a.included,
        enforcement: &a.enforcement,
        grace_percent: &a.grace,
        value: &a.value,
    };
    let o = overrides::set(
        t,
        &Actor::Cli,
        account_id,
        &input,
        &a.reason,
        expires_at,
        Utc::now(),
    )
    .await?;
    println!(
        "account {account_id}: {} {} overridden ({}){}",
        kind,
        key,
        serde_json::to_string(&o.target)?,
        o.expires_at
            .map(|e| format!(" until {e}"))
            .unwrap_or_default()
    );
    Ok(())
}

/// Prints the account's overrides, one a line.
///
/// # Errors
/// Database errors.
pub async fn list(t: &Tollgate, account_id: Uuid) -> anyhow::Result<()> {
    let all = overrides::list(t, &Actor::Cli, account_id).await?;
    if all.is_empty() {
        println!("account {account_id} has no overrides");
    }
    let now = Utc::now();
    for o in all {
        let state = if o.active_at(now) {
            "active"
        } else {
            "expired"
        };
        let until = o
            .expires_at
            .map_or_else(|| "until removed".to_string(), |e| format!("until {e}"));
        println!(
            "{state}\t{}\t{}\t{}\t{until}\t{} ({})",
            o.target.kind(),
            o.target.key(),
            serde_json::to_string(&o.target)?,
            o.reason,
            o.author
        );
    }
    Ok(())
}

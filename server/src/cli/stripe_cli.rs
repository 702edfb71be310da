//! `tollgate stripe …`: the Stripe provider's operator commands.

use anyhow::Context;
use tollgate::service::stripe::sync::{self, Action};
use tollgate::service::Tollgate;

/// Creates or updates the catalog's products and prices in Stripe and prints one
/// line per object; a second run prints `unchanged` everywhere.
///
/// # Errors
/// Stripe not configured, no catalog, or a Stripe request failing.
pub async fn sync(t: &Tollgate) -> anyhow::Result<()> {
    let stripe = t
        .stripe
        .clone()
        .context("Stripe is not configured: set stripe_secret_key and stripe_webhook_secret")?;
    let report = sync::sync(t, &stripe).await?;
    let mut changed = 0;
    for line in &report {
        let what = match &line.action {
            Action::Created => "created".to_owned(),
            Action::Updated => "updated".to_owned(),
            Action::Unchanged => "unchanged".to_owned(),
            Action::Skipped(why) => format!("skipped: {why}"),
        };
        changed += usize::from(matches!(line.action, Action::Created | Action::Updated));
        println!("{}: {what}", line.object);
    }
    println!(
        "stripe sync: {changed} created or updated, {} objects in all",
        report.len()
    );
    Ok(())
}

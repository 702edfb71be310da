//! Plans edited in the admin panel (issue 11 §3, limits so far): the edit is made
//! on the live catalog version's TOML ([`crate::catalog::edit`]), validated by the
//! catalog loader, shown as a diff with the subscribers it reaches, and published
//! as a new catalog version in one audited transaction
//! (`catalog.plan_edited`); every server process refreshes through the catalog
//! channel, so limits apply to current subscribers at once (seed 001 §1: "admin
//! sets messages to 1000 for starter and it applies at once").

use super::require_super_admin;
use crate::catalog::{edit, Catalog};
use crate::db;
use crate::service::catalog::{publish, LoadError};
use crate::service::{Actor, Error, Tollgate};

/// A plan's new limit on a meter, as typed in the form.
#[derive(Debug, Clone, Copy, Default)]
pub struct LimitInput<'a> {
    pub plan: &'a str,
    pub meter: &'a str,
    pub included: &'a str,
    pub enforcement: &'a str,
    pub grace_percent: &'a str,
}

/// What publishing an edit would do.
#[derive(Debug, Clone)]
pub struct EditPreview {
    /// The live version the edit starts from; publishing refuses if another
    /// version was published since.
    pub base_version: i64,
    /// Each changed limit in words (`Starter · Queries: 500 soft → 1000 soft`).
    pub changes: Vec<String>,
    /// Live subscriptions on the plan, which the new limit reaches at once.
    pub subscribers: i64,
    /// The new catalog text.
    pub text: String,
    /// Where the live version came from (a file name).
    pub source: String,
}

/// Prepares the edit on the live version, validated as a catalog file would be.
///
/// # Errors
/// [`Error::Forbidden`] unless a super admin acting as themself; [`Error::Conflict`]
/// when no version text is kept yet (load the catalog file once);
/// [`Error::Invalid`] naming the field for an unknown plan or meter, a bad value,
/// or a combination the loader refuses; [`Error::Conflict`] for no change.
pub async fn preview_limit(t: &Tollgate, actor: &Actor, input: &LimitInput<'_>) -> Result<EditPreview, Error> {
    require_super_admin(&t.pool, actor).await?;
    let live = t.catalog.get()?;
    let version = db::catalog::latest_version(&t.pool)
        .await?
        .ok_or_else(|| Error::Conflict("No catalog version is kept yet: load the catalog file once more (tollgate catalog load) to start editing it here.".into()))?;
    let plan = live.plan(input.plan).ok_or_else(|| Error::invalid("plan", format!("There is no plan `{}`.", input.plan)))?;
    live.meter(input.meter).ok_or_else(|| Error::invalid("meter", format!("There is no meter `{}`.", input.meter)))?;
    let per_seat = plan.limit(input.meter).per_seat;
    let limit = edit::parse_limit(input.included, input.enforcement, input.grace_percent, per_seat).map_err(|r| Error::invalid(r.field, r.message))?;
    let text = edit::set_limit(&version.text, input.plan, input.meter, &limit).map_err(|m| Error::invalid("plan", m))?;
    let edited: Catalog = crate::catalog::file::parse(&version.source, &text).map_err(|e| {
        let reasons: Vec<String> = e.issues.iter().map(|i| i.reason.clone()).collect();
        Error::invalid("included", format!("The catalog would not load: {}.", reasons.join("; ")))
    })?;
    let changes = edit::limit_changes(&live, &edited);
    if changes.is_empty() {
        return Err(Error::Conflict("That is the plan's limit already.".into()));
    }
    let subscribers = db::subscriptions::live_counts_by_plan(&t.pool).await?.get(input.plan).copied().unwrap_or(0);
    Ok(EditPreview { base_version: version.version, changes, subscribers, text, source: version.source })
}

/// Publishes the edit previewed from `base_version` as a new catalog version and
/// refreshes this process's catalog (the others refresh on the notification).
/// Returns the new version number.
///
/// # Errors
/// As [`preview_limit`]; [`Error::Conflict`] when another version was published
/// after `base_version` (preview again).
pub async fn publish_limit(t: &Tollgate, actor: &Actor, input: &LimitInput<'_>, base_version: i64) -> Result<i64, Error> {
    let p = preview_limit(t, actor, input).await?;
    let note = p.changes.join("; ");
    let (_, version) = publish(&t.pool, &p.source, &p.text, actor, "catalog.plan_edited", &note, Some(base_version)).await.map_err(|e| match e {
        LoadError::File(f) => Error::invalid("included", f.to_string()),
        LoadError::Service(e) => e,
    })?;
    t.catalog.refresh(&t.pool).await?;
    Ok(version)
}

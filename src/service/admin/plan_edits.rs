//! Plans edited in the admin panel (issue 11 §3): a plan's limit, price, feature
//! value or trial, or a usage threshold, is written into the live catalog
//! version's TOML ([`crate::catalog::edit`]), validated by the catalog loader,
//! shown as a diff with whom it reaches, and published as a new catalog version in
//! one audited transaction (`catalog.plan_edited`). Every server process refreshes
//! through the catalog channel, so limits, features and thresholds apply to
//! current subscribers at once (seed 001 §1: "admin sets messages to 1000 for
//! starter and it applies at once"); a new price applies to new subscriptions, and
//! current subscribers keep theirs until moved ([`super::price_migration`]).

use super::require_super_admin;
use crate::catalog::edit::{self, Edit, EditInput};
use crate::catalog::Catalog;
use crate::db;
use crate::service::catalog::{publish as publish_version, LoadError};
use crate::service::{Actor, Error, Tollgate};

/// What publishing an edit would do.
#[derive(Debug, Clone)]
pub struct EditPreview {
    /// The live version the edit starts from; publishing refuses if another
    /// version was published since.
    pub base_version: i64,
    /// Each change in words (`Starter · Queries: 500 soft → 1000 soft`).
    pub changes: Vec<String>,
    /// Whom it reaches, in one sentence ("Applies at once to the plan's 12 current
    /// subscribers." / "New subscriptions pay it; the 12 current subscribers keep
    /// their price until moved.").
    pub reach: String,
}

fn plural(n: i64, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

/// An edit written into the live version's text and validated.
struct Prepared {
    edit: Edit,
    base_version: i64,
    changes: Vec<String>,
    text: String,
    source: String,
}

/// Prepares the edit on the live version, validated as a catalog file would be.
///
/// # Errors
/// As [`preview`].
async fn prepare(t: &Tollgate, actor: &Actor, input: &EditInput<'_>) -> Result<Prepared, Error> {
    require_super_admin(&t.pool, actor).await?;
    let live = t.catalog.get()?;
    let version = db::catalog::latest_version(&t.pool)
        .await?
        .ok_or_else(|| Error::Conflict("No catalog version is kept yet: load the catalog file once more (tollgate catalog load) to start editing it here.".into()))?;
    let parsed = edit::parse(&live, input).map_err(|r| Error::invalid(r.field, r.message))?;
    let text = edit::apply(&version.text, &parsed).map_err(|m| Error::invalid("value", m))?;
    let edited: Catalog = crate::catalog::file::parse(&version.source, &text).map_err(|e| {
        let reasons: Vec<String> = e
            .issues
            .iter()
            .map(|i| format!("{}: {}", i.entry, i.reason))
            .collect();
        Error::invalid(
            "value",
            format!("The catalog would not load: {}.", reasons.join("; ")),
        )
    })?;
    let changes = edit::changes(&live, &edited);
    if changes.is_empty() {
        return Err(Error::Conflict(
            "That is the catalog's value already.".into(),
        ));
    }
    Ok(Prepared {
        edit: parsed,
        base_version: version.version,
        changes,
        text,
        source: version.source,
    })
}

/// The edit on the live version, validated as a catalog file would be, with the
/// diff and whom it reaches.
///
/// # Errors
/// [`Error::Forbidden`] unless a super admin acting as themself; [`Error::Conflict`]
/// when no version text is kept yet (load the catalog file once) or the edit
/// changes nothing; [`Error::Invalid`] naming the field for an unknown plan,
/// meter or feature, a bad value, or a catalog the loader refuses.
pub async fn preview(
    t: &Tollgate,
    actor: &Actor,
    input: &EditInput<'_>,
) -> Result<EditPreview, Error> {
    let p = prepare(t, actor, input).await?;
    let counts = db::subscriptions::live_counts_by_plan(&t.pool).await?;
    let on = |plan: &str| counts.get(plan).copied().unwrap_or(0);
    let reach = match &p.edit {
        Edit::Limit { plan, .. } | Edit::Feature { plan, .. } => format!(
            "Applies at once to the plan's {}, on every server.",
            plural(on(plan), "current subscriber")
        ),
        Edit::Threshold { .. } => format!(
            "Applies at once to all {}, on every server.",
            plural(counts.values().sum(), "current subscriber")
        ),
        Edit::Trial { .. } => {
            "Applies to new subscriptions; trials already running keep their end.".to_string()
        }
        Edit::Price { plan, interval, .. } => {
            let n = db::subscriptions::live_count(&t.pool, plan, *interval).await?;
            format!(
                "New subscriptions pay the new price. The {} on this interval keep their price until you move them to the current price.",
                plural(n, "current subscriber")
            )
        }
    };
    Ok(EditPreview {
        base_version: p.base_version,
        changes: p.changes,
        reach,
    })
}

/// What publishing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The new catalog version.
    pub version: i64,
    /// For a price edit with Stripe configured: whether `stripe sync` made Stripe's
    /// price for the new amount (`Err` with Stripe's message: the version stands;
    /// run `tollgate stripe sync` before card customers choose the plan).
    pub stripe_sync: Option<Result<(), String>>,
}

/// Publishes the edit previewed from `base_version` as a new catalog version and
/// refreshes this process's catalog (the others refresh on the notification);
/// subscribers of a changed price keep their price ([`crate::service::catalog`]).
/// A price edit with Stripe configured then syncs Stripe's prices
/// ([`crate::service::stripe::sync`]), so new card subscriptions pay the new price.
///
/// # Errors
/// As [`preview`]; [`Error::Conflict`] when another version was published after
/// `base_version` (preview again).
pub async fn publish(
    t: &Tollgate,
    actor: &Actor,
    input: &EditInput<'_>,
    base_version: i64,
) -> Result<Published, Error> {
    let p = prepare(t, actor, input).await?;
    let note = p.changes.join("; ");
    let (_, version) = publish_version(
        &t.pool,
        &p.source,
        &p.text,
        actor,
        "catalog.plan_edited",
        &note,
        Some(base_version),
    )
    .await
    .map_err(|e| match e {
        LoadError::File(f) => Error::invalid("value", f.to_string()),
        LoadError::Service(e) => e,
    })?;
    t.catalog.refresh(&t.pool).await?;
    let stripe_sync = match (&p.edit, &t.stripe) {
        (Edit::Price { .. }, Some(stripe)) => Some(
            crate::service::stripe::sync::sync(t, stripe)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        ),
        _ => None,
    };
    Ok(Published {
        version,
        stripe_sync,
    })
}

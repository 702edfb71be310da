//! The active catalog: loaded from a file into PostgreSQL, cached in each process,
//! refreshed when any process loads a new one (NOTIFY `tollgate_catalog`).

use super::{Actor, Error};
use crate::catalog::{file, Catalog};
use crate::db;
use sqlx::PgPool;
use std::sync::{Arc, RwLock};

/// The channel a catalog load notifies on.
pub const CATALOG_CHANNEL: &str = "tollgate_catalog";

/// This process's copy of the active catalog.
#[derive(Clone, Default)]
pub struct CatalogStore {
    current: Arc<RwLock<Option<Arc<Catalog>>>>,
}

impl CatalogStore {
    /// The active catalog.
    ///
    /// # Errors
    /// [`Error::NoCatalog`] before the first load.
    pub fn get(&self) -> Result<Arc<Catalog>, Error> {
        self.current
            .read()
            .map_err(|_| Error::Internal("catalog lock poisoned".into()))?
            .clone()
            .ok_or(Error::NoCatalog)
    }

    /// Re-reads the catalog from the database.
    ///
    /// # Errors
    /// A database error.
    pub async fn refresh(&self, pool: &PgPool) -> Result<(), Error> {
        let mut conn = pool.acquire().await?;
        let loaded = db::catalog::load(&mut conn).await?.map(Arc::new);
        *self
            .current
            .write()
            .map_err(|_| Error::Internal("catalog lock poisoned".into()))? = loaded;
        Ok(())
    }
}

/// Why a catalog file was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is invalid; nothing was changed.
    #[error("{0}")]
    File(#[from] file::FileError),
    /// The database refused it; nothing was changed.
    #[error(transparent)]
    Service(#[from] Error),
}

/// Parses `text` (from `source`), stores it as the active catalog in one
/// transaction, audits it and tells every process to refresh.
///
/// # Errors
/// [`LoadError::File`] naming each bad entry, or a database error; in both cases the
/// database is unchanged.
pub async fn load(
    pool: &PgPool,
    source: &str,
    text: &str,
    actor: &Actor,
) -> Result<Catalog, LoadError> {
    publish(pool, source, text, actor, "catalog.loaded", "", None)
        .await
        .map(|(catalog, _)| catalog)
}

/// Keeps `text` (from `source`) as the live catalog's version when none is kept yet
/// (a database loaded before versions were kept) and it parses to exactly the live
/// catalog, so the admin panel can edit it. Returns whether it was kept.
///
/// # Errors
/// [`LoadError::File`] for a bad file; database errors.
pub async fn adopt_as_version(pool: &PgPool, source: &str, text: &str) -> Result<bool, LoadError> {
    let parsed = file::parse(source, text)?;
    let mut conn = pool.acquire().await.map_err(Error::from)?;
    if db::catalog::latest_version(&mut *conn)
        .await
        .map_err(Error::from)?
        .is_some()
    {
        return Ok(false);
    }
    if db::catalog::load(&mut conn)
        .await
        .map_err(Error::from)?
        .as_ref()
        != Some(&parsed)
    {
        return Ok(false);
    }
    db::catalog::insert_version(
        &mut *conn,
        source,
        text,
        None,
        "the loaded file, kept as the first version",
    )
    .await
    .map_err(Error::from)?;
    Ok(true)
}

/// Keeps each changed price of `old` for the plan's live subscribers on that
/// interval ([`crate::catalog::Plan::changed_prices`]): a new price applies to new
/// subscriptions, current ones keep theirs until an operator migrates them
/// ([`super::admin::price_migration`]). Subscribers who kept exactly the new
/// price no longer keep anything. Returns `[{plan, interval, subscriptions}]`
/// for the audit entry.
async fn grandfather_changed_prices(
    tx: &mut sqlx::PgConnection,
    old: Option<&Catalog>,
    new: &Catalog,
) -> Result<Vec<serde_json::Value>, Error> {
    let mut kept = Vec::new();
    let now = chrono::Utc::now();
    for plan in old.map(|c| c.plans.as_slice()).unwrap_or_default() {
        let Some(newer) = new.plan(plan.key.as_str()) else {
            continue;
        };
        for price in plan.changed_prices(newer) {
            // Subscribers keeping exactly the new price (a price changed back) pay
            // the catalog's price again.
            let mut released = Vec::new();
            if let Some(current) = newer.price(price.interval) {
                for sub in
                    db::subscriptions::grandfathered(&mut *tx, plan.key.as_str(), price.interval)
                        .await?
                {
                    if sub.kept_price_at(now) == Some(current) {
                        db::subscriptions::release_grandfathered(&mut *tx, sub.id).await?;
                        released.push(sub.id);
                    }
                }
            }
            let n = db::subscriptions::grandfather(
                &mut *tx,
                plan.key.as_str(),
                price.interval,
                price,
                now,
                &released,
            )
            .await?;
            if n > 0 {
                kept.push(serde_json::json!({ "plan": plan.key.as_str(), "interval": price.interval.as_str(), "subscriptions": n }));
            }
        }
    }
    Ok(kept)
}

/// [`load`] with the audit `action` and a `note` kept with the version; returns
/// the catalog and its version number. With `base`, publishing is refused unless
/// `base` is still the newest version (checked under a lock, so two publishers
/// cannot both pass).
///
/// # Errors
/// As [`load`]; [`Error::Conflict`] when `base` is no longer the newest version.
pub(crate) async fn publish(
    pool: &PgPool,
    source: &str,
    text: &str,
    actor: &Actor,
    action: &str,
    note: &str,
    base: Option<i64>,
) -> Result<(Catalog, i64), LoadError> {
    let catalog = file::parse(source, text)?;
    let mut tx = pool.begin().await.map_err(Error::from)?;
    db::catalog::lock_versions(&mut tx)
        .await
        .map_err(Error::from)?;
    if let Some(base) = base {
        let newest = db::catalog::latest_version(&mut *tx)
            .await
            .map_err(Error::from)?
            .map(|v| v.version);
        if newest != Some(base) {
            return Err(Error::Conflict(
                "The catalog changed since the preview; preview the edit again.".into(),
            )
            .into());
        }
    }
    let old = db::catalog::load(&mut tx).await.map_err(Error::from)?;
    let grandfathered = grandfather_changed_prices(&mut tx, old.as_ref(), &catalog).await?;
    db::catalog::save(&mut tx, &catalog, source)
        .await
        .map_err(Error::from)?;
    let version = db::catalog::insert_version(&mut *tx, source, text, actor.user_id(), note)
        .await
        .map_err(Error::from)?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action,
            target_kind: "catalog",
            target_id: catalog.name.to_string(),
            account_id: None,
            ip: None,
            details: serde_json::json!({
                "source": source,
                "plans": catalog.plans.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
                "meters": catalog.meters.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(),
                "version": version,
                "note": note,
                "grandfathered": grandfathered,
            }),
        },
    )
    .await
    .map_err(Error::from)?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CATALOG_CHANNEL)
        .bind(catalog.name.as_str())
        .execute(&mut *tx)
        .await
        .map_err(Error::from)?;
    tx.commit().await.map_err(Error::from)?;
    Ok((catalog, version))
}

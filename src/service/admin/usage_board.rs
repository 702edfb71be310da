//! The usage board behind `/admin/usage` and the admin account pages' live meters
//! (issue 11 §2): every subscribed account's meters, held in memory by each server
//! process and kept current from the live hub.
//!
//! Cost does not grow with the number of open admin pages: a change of an account
//! (or a burst of changes of many) is computed once, in three statements whatever
//! the number of accounts, and the resulting [`Update`] is broadcast to every open
//! stream, which only filters and serializes it. Pages read the board from memory
//! (filter, sort, page), without a query. The board is reloaded whole when the
//! catalog changes or notifications may have been missed, and every
//! [`FULL_RELOAD`] (periods roll over and projections move with time).

use super::require_super_admin;
use crate::board::{self, AccountMeters, Filter, Line, Sort, Summary, Update};
use crate::catalog::{Catalog, Meter};
use crate::db;
use crate::service::accounts::Standing;
use crate::service::live::Change;
use crate::service::usage::{current_for, meters_now};
use crate::service::{Actor, Error, Tollgate};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

/// Changes arriving within this window are computed as one update.
pub const COALESCE: Duration = Duration::from_millis(50);
/// How often the whole board is recomputed regardless of changes.
pub const FULL_RELOAD: Duration = Duration::from_secs(60);
/// Lines per page of `/admin/usage`.
pub const LINES_PER_PAGE: usize = 50;

#[derive(Default)]
struct State {
    accounts: HashMap<Uuid, AccountMeters>,
    summary: Summary,
    version: u64,
    loaded: bool,
}

/// One process's board. Cheap to share (`Arc`).
pub struct UsageBoard {
    state: RwLock<State>,
    updates: broadcast::Sender<Arc<Update>>,
    /// One load at a time.
    loading: tokio::sync::Mutex<()>,
}

impl Default for UsageBoard {
    fn default() -> Self {
        UsageBoard {
            state: RwLock::new(State::default()),
            updates: broadcast::channel(256).0,
            loading: tokio::sync::Mutex::new(()),
        }
    }
}

/// A page of the board.
#[derive(Debug, Clone)]
pub struct BoardPage {
    /// The lines of this page.
    pub lines: Vec<Line>,
    /// Lines the filter keeps, on every page.
    pub total: usize,
    /// Totals over every account.
    pub summary: Summary,
    /// The board's version the page was cut from.
    pub version: u64,
}

impl UsageBoard {
    /// A receiver of the board's updates from now on. A receiver that falls 256
    /// updates behind gets a lag error: its page should reload.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Update>> {
        self.updates.subscribe()
    }

    /// Page `page` (from 0) of the lines `filter` keeps, in `sort`'s order, for a
    /// super admin acting as themself.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for anyone else; database errors on the first load.
    pub async fn page(
        &self,
        t: &Tollgate,
        actor: &Actor,
        filter: &Filter,
        sort: Sort,
        page: usize,
    ) -> Result<BoardPage, Error> {
        require_super_admin(&t.pool, actor).await?;
        self.ensure_loaded(t).await?;
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        let all = board::lines(state.accounts.values(), filter, sort);
        let total = all.len();
        let lines = all
            .into_iter()
            .skip(page * LINES_PER_PAGE)
            .take(LINES_PER_PAGE)
            .collect();
        Ok(BoardPage {
            lines,
            total,
            summary: state.summary.clone(),
            version: state.version,
        })
    }

    /// The board now as one [`Update`] holding the `watched` accounts that are on it
    /// (a stream's first message, or its catch-up after falling behind).
    pub fn current(&self, watched: &HashSet<Uuid>) -> Update {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        Update {
            version: state.version,
            accounts: watched
                .iter()
                .filter_map(|id| state.accounts.get(id).cloned())
                .collect(),
            removed: watched
                .iter()
                .filter(|id| !state.accounts.contains_key(id))
                .copied()
                .collect(),
            summary: state.summary.clone(),
        }
    }

    /// Loads the whole board unless it is loaded.
    ///
    /// # Errors
    /// Database errors; [`Error::NoCatalog`].
    pub async fn ensure_loaded(&self, t: &Tollgate) -> Result<(), Error> {
        if self.state.read().unwrap_or_else(|p| p.into_inner()).loaded {
            return Ok(());
        }
        let _one = self.loading.lock().await;
        if self.state.read().unwrap_or_else(|p| p.into_inner()).loaded {
            return Ok(());
        }
        self.reload_locked(t, None).await
    }

    /// Recomputes `only` these accounts (`None`: every account), stores them and
    /// broadcasts the update.
    ///
    /// # Errors
    /// Database errors; [`Error::NoCatalog`].
    pub async fn reload(&self, t: &Tollgate, only: Option<&[Uuid]>) -> Result<(), Error> {
        let _one = self.loading.lock().await;
        self.reload_locked(t, only).await
    }

    /// [`Self::reload`] for a caller holding `loading`: loads never interleave, so
    /// an older read never overwrites a newer one.
    async fn reload_locked(&self, t: &Tollgate, only: Option<&[Uuid]>) -> Result<(), Error> {
        let catalog = t.catalog.get()?;
        let fresh = load(t, &catalog, only, Utc::now()).await?;
        let meters: Vec<(String, String, String)> = catalog
            .meters
            .iter()
            .map(|m| (m.key.to_string(), m.name.clone(), m.unit.clone()))
            .collect();
        let update = {
            let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
            let present: HashSet<Uuid> = fresh.iter().map(|a| a.account_id).collect();
            let removed: Vec<Uuid> = match only {
                None => state
                    .accounts
                    .keys()
                    .filter(|id| !present.contains(id))
                    .copied()
                    .collect(),
                Some(ids) => ids
                    .iter()
                    .filter(|id| !present.contains(id))
                    .copied()
                    .collect(),
            };
            if only.is_none() {
                state.accounts.clear();
            }
            for id in &removed {
                state.accounts.remove(id);
            }
            for a in &fresh {
                state.accounts.insert(a.account_id, a.clone());
            }
            state.summary = board::summarize(state.accounts.values(), &meters);
            state.version += 1;
            state.loaded = true;
            Update {
                version: state.version,
                accounts: fresh,
                removed,
                summary: state.summary.clone(),
            }
        };
        let _ = self.updates.send(Arc::new(update));
        Ok(())
    }
}

/// Every live subscription's account (`only`: of those accounts) with its meters
/// at `now`: effective limits, usage of each meter's current period.
///
/// # Errors
/// Database errors.
pub async fn load(
    t: &Tollgate,
    catalog: &Catalog,
    only: Option<&[Uuid]>,
    now: DateTime<Utc>,
) -> Result<Vec<AccountMeters>, Error> {
    let mut conn = t.pool.acquire().await?;
    let subs = db::subscriptions::live_with_accounts(&mut *conn, only).await?;
    let ids: Vec<Uuid> = subs.iter().map(|s| s.subscription.account_id).collect();
    let overrides = db::overrides::active_for(&mut *conn, &ids, now).await?;
    let standings: Vec<(Uuid, Standing<'_>)> = subs
        .iter()
        .map(|s| {
            let id = s.subscription.account_id;
            (
                id,
                Standing {
                    subscription: Some(&s.subscription),
                    overrides: overrides.get(&id).unwrap_or(&crate::overrides::NONE),
                },
            )
        })
        .collect();
    let meters: Vec<&Meter> = catalog.meters.iter().collect();
    let usage = current_for(&mut conn, catalog, &standings, &meters, now).await?;
    drop(conn);
    Ok(subs
        .iter()
        .zip(&standings)
        .map(|(s, (id, standing))| {
            let sub = &s.subscription;
            AccountMeters {
                account_id: *id,
                name: s.account_name.clone(),
                admin_path: match s.personal_user_id {
                    Some(user) => format!("/admin/users/{user}"),
                    None => format!("/admin/organizations/{id}"),
                },
                plan_key: sub.plan_key.clone(),
                plan_name: catalog
                    .plan(&sub.plan_key)
                    .map_or_else(|| sub.plan_key.clone(), |p| p.name.clone()),
                status: sub.status(),
                meters: meters_now(
                    catalog,
                    *standing,
                    |m| usage.get(&(*id, m.to_string())).copied(),
                    now,
                ),
            }
        })
        .collect())
}

/// Keeps `t`'s board current until the process ends: one update per burst of
/// changes (accounts changed within [`COALESCE`]), a full reload on a resync, a
/// lag, or every [`FULL_RELOAD`]. Started by `tollgate serve`.
pub async fn maintain(t: Tollgate) {
    let mut changes = t.live.subscribe();
    let mut tick = tokio::time::interval(FULL_RELOAD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate; the board is not loaded yet
    loop {
        let first = tokio::select! {
            c = changes.recv() => c,
            _ = tick.tick() => Ok(Change::Resync),
        };
        let mut accounts: HashSet<Uuid> = HashSet::new();
        let mut full = false;
        match first {
            Ok(Change::Usage(id)) => {
                accounts.insert(id);
            }
            Ok(Change::Resync) | Err(RecvError::Lagged(_)) => full = true,
            Err(RecvError::Closed) => return,
        }
        tokio::time::sleep(COALESCE).await;
        loop {
            match changes.try_recv() {
                Ok(Change::Usage(id)) => {
                    accounts.insert(id);
                }
                Ok(Change::Resync) | Err(broadcast::error::TryRecvError::Lagged(_)) => full = true,
                Err(_) => break,
            }
        }
        // Not loaded yet: nobody looks; the first page loads it whole.
        if !t
            .board
            .state
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .loaded
        {
            continue;
        }
        let ids: Vec<Uuid> = accounts.into_iter().collect();
        let result = if full {
            t.board.reload(&t, None).await
        } else {
            t.board.reload(&t, Some(&ids)).await
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not update the usage board");
        }
    }
}

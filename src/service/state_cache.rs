//! What a read `check` and an API key's authentication need, held in the process
//! and kept exact by the database's notifications (issue 12, "answer from state
//! held in the process").
//!
//! Two maps: API keys by the SHA-256 of their secret, and per account its live
//! subscription, its overrides in force and its meters' current totals. An entry
//! is dropped when the database announces a change of it: `tollgate_usage`
//! (the account id; sent by every service that changes usage or a plan, and by
//! triggers on `subscriptions` and `entitlement_overrides` whoever writes them)
//! and `tollgate_keys` (a key id; a trigger on `api_keys`).
//!
//! Exactness rests on three rules:
//! - The cache answers only while this process LISTENs ([`StateCache::enable`]
//!   is called after `LISTEN` succeeded, [`StateCache::disable`] as soon as the
//!   connection is lost). Anything loaded before `LISTEN` is dropped on enabling.
//! - A loader takes a [`Ticket`] before it reads the database and may store what
//!   it read only if no change of that account (or key) arrived in between. Since
//!   a notification is delivered after its transaction commits, a load that missed
//!   a commit always meets its notification, before storing (refused) or after
//!   (dropped).
//! - Entries expire on their own when time alone changes the answer: a meter's
//!   period ends, an override expires, a past-due subscription's grace ends. Keys
//!   are read again after [`KEY_MAX_AGE`].
//! - The listener proves its connection alive: every few seconds it sends itself
//!   a mark through the database and stops the cache when the mark does not come
//!   back (a connection can die without the socket noticing).
//!
//! A change committed by this process is dropped here right after the commit
//! ([`StateCache::invalidate`]), so a client that waits for Tollgate's answer reads
//! its own writes from the same process. Another process sees it when the
//! notification arrives (normally within a millisecond). Consuming checks and
//! rate features never read the cache: they decide in a transaction.

use crate::db::subscriptions::SubscriptionRow;
use crate::overrides::Overrides;
use crate::period::Period;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;
use uuid::Uuid;

/// Accounts, and keys, held at most; past it the map starts again empty (a
/// bound on memory, not an eviction policy: 100k accounts fit easily).
pub const CAPACITY: usize = 100_000;

/// A key is read from the database again after this long, whatever the
/// notifications said: a bound on how long a revocation could go unseen if the
/// listener's connection died without the process noticing.
pub const KEY_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// An account's standing and usage as read from the database at one moment.
#[derive(Debug)]
pub struct AccountEntry {
    /// The live subscription (its `entitled` as of the load).
    pub subscription: Option<SubscriptionRow>,
    /// The overrides in force at the load.
    pub overrides: Overrides,
    /// Each meter's period at the load and its usage in it (meters without usage
    /// hold zero).
    pub usage: HashMap<String, (Period, Decimal)>,
    /// The entry answers for times before this one only (UTC, exclusive).
    pub fresh_until: DateTime<Utc>,
}

impl AccountEntry {
    /// The entry seen as entitlements.
    pub fn standing(&self) -> super::accounts::Standing<'_> {
        super::accounts::Standing {
            subscription: self.subscription.as_ref(),
            overrides: &self.overrides,
        }
    }
}

/// An authenticated key, as [`super::keys::Caller`] plus when it was last
/// recorded as used.
#[derive(Debug)]
pub struct KeyEntry {
    /// Who the key speaks for.
    pub caller: super::keys::Caller,
    /// Unix seconds of the last `last_used_at` this process wrote (0: never).
    pub touched: AtomicI64,
    /// When it was read from the database.
    pub loaded: std::time::Instant,
}

/// Taken before a load; see the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

#[derive(Default)]
struct Slot {
    generation: u64,
    entry: Option<Arc<AccountEntry>>,
}

#[derive(Default)]
struct Keys {
    generation: u64,
    by_hash: HashMap<Vec<u8>, Arc<KeyEntry>>,
}

struct Shared {
    /// Marks this process's sync notifications (`sync:<nonce>:<n>`), so that
    /// another process's marks are not taken for its own.
    nonce: u64,
    enabled: AtomicBool,
    next: AtomicU64,
    accounts: Mutex<HashMap<Uuid, Slot>>,
    keys: Mutex<Keys>,
    synced: watch::Sender<u64>,
}

/// This process's cache. Cheap to clone; disabled until [`StateCache::enable`].
#[derive(Clone)]
pub struct StateCache(Arc<Shared>);

impl Default for StateCache {
    fn default() -> Self {
        StateCache(Arc::new(Shared {
            nonce: rand::random(),
            enabled: AtomicBool::new(false),
            next: AtomicU64::new(1),
            accounts: Mutex::default(),
            keys: Mutex::default(),
            synced: watch::channel(0).0,
        }))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl StateCache {
    fn fresh_generation(&self) -> u64 {
        self.0.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether the cache answers (this process LISTENs).
    pub fn enabled(&self) -> bool {
        self.0.enabled.load(Ordering::Acquire)
    }

    /// Starts answering, from empty: called once `LISTEN` is in place.
    pub fn enable(&self) {
        self.clear();
        self.0.enabled.store(true, Ordering::Release);
    }

    /// Stops answering and forgets everything: notifications may be missed.
    pub fn disable(&self) {
        self.0.enabled.store(false, Ordering::Release);
        self.clear();
    }

    /// Forgets every entry (the catalog changed, or notifications were missed).
    pub fn clear(&self) {
        lock(&self.0.accounts).clear();
        let mut keys = lock(&self.0.keys);
        keys.by_hash.clear();
        keys.generation = self.fresh_generation();
    }

    /// The account's entry if the cache answers and it is fresh at `now`.
    pub fn account(&self, account_id: Uuid, now: DateTime<Utc>) -> Option<Arc<AccountEntry>> {
        if !self.enabled() {
            return None;
        }
        lock(&self.0.accounts)
            .get(&account_id)
            .and_then(|s| s.entry.clone())
            .filter(|e| now < e.fresh_until)
    }

    /// A ticket for loading the account, or `None` when the cache does not answer
    /// (load without storing).
    pub fn account_ticket(&self, account_id: Uuid) -> Option<Ticket> {
        if !self.enabled() {
            return None;
        }
        let mut accounts = lock(&self.0.accounts);
        if accounts.len() >= CAPACITY && !accounts.contains_key(&account_id) {
            accounts.clear();
        }
        let fresh = self.fresh_generation();
        let slot = accounts.entry(account_id).or_insert_with(|| Slot {
            generation: fresh,
            entry: None,
        });
        Some(Ticket(slot.generation))
    }

    /// Stores what was loaded under `ticket`, unless the account changed since.
    pub fn put_account(&self, account_id: Uuid, ticket: Ticket, entry: Arc<AccountEntry>) {
        if !self.enabled() {
            return;
        }
        let mut accounts = lock(&self.0.accounts);
        if let Some(slot) = accounts.get_mut(&account_id) {
            if slot.generation == ticket.0 {
                slot.entry = Some(entry);
            }
        }
    }

    /// Drops what is held for these accounts (they changed).
    pub fn invalidate(&self, account_ids: &[Uuid]) {
        let mut accounts = lock(&self.0.accounts);
        for id in account_ids {
            if let Some(slot) = accounts.get_mut(id) {
                slot.generation = self.fresh_generation();
                slot.entry = None;
            }
        }
    }

    /// The key whose secret hashes to `hash`, if held.
    pub fn key(&self, hash: &[u8]) -> Option<Arc<KeyEntry>> {
        if !self.enabled() {
            return None;
        }
        lock(&self.0.keys)
            .by_hash
            .get(hash)
            .filter(|k| k.loaded.elapsed() < KEY_MAX_AGE)
            .cloned()
    }

    /// A ticket for loading a key, or `None` when the cache does not answer.
    pub fn key_ticket(&self) -> Option<Ticket> {
        self.enabled()
            .then(|| Ticket(lock(&self.0.keys).generation))
    }

    /// Stores a key loaded under `ticket`, unless any key changed since.
    pub fn put_key(&self, hash: Vec<u8>, ticket: Ticket, entry: Arc<KeyEntry>) {
        if !self.enabled() {
            return;
        }
        let mut keys = lock(&self.0.keys);
        if keys.generation != ticket.0 {
            return;
        }
        if keys.by_hash.len() >= CAPACITY {
            keys.by_hash.clear();
        }
        keys.by_hash.insert(hash, entry);
    }

    /// Drops the key `key_id` (revoked, deleted or changed).
    pub fn invalidate_key(&self, key_id: Uuid) {
        let mut keys = lock(&self.0.keys);
        keys.generation = self.fresh_generation();
        keys.by_hash.retain(|_, k| k.caller.key_id() != key_id);
    }

    /// A new sync mark of this process: the payload to send on `tollgate_usage`
    /// (`sync:<nonce>:<n>`) and `n`.
    pub fn next_mark(&self) -> (String, u64) {
        let n = self.fresh_generation();
        (
            format!("{}{}:{n}", crate::db::usage::SYNC_PREFIX, self.0.nonce),
            n,
        )
    }

    /// Records a sync payload the listener received (`<nonce>:<n>` after the
    /// prefix); another process's marks are ignored. Returns the mark when it was
    /// this process's.
    pub fn synced(&self, payload: &str) -> Option<u64> {
        let (nonce, n) = payload.split_once(':')?;
        if nonce.parse::<u64>().ok()? != self.0.nonce {
            return None;
        }
        let n: u64 = n.parse().ok()?;
        self.0.synced.send_if_modified(|seen| {
            let newer = n > *seen;
            if newer {
                *seen = n;
            }
            newer
        });
        Some(n)
    }

    /// The last sync mark of this process the listener received.
    pub fn last_synced(&self) -> u64 {
        *self.0.synced.borrow()
    }

    /// Waits until this process's listener has handled every change committed
    /// before the call (it sends a mark through the same channel and waits for it,
    /// at most `timeout`). For tests and tools that write with plain SQL.
    ///
    /// # Errors
    /// A database error; [`super::Error::Internal`] when the mark does not arrive
    /// in time (the listener is not running).
    pub async fn sync(
        &self,
        pool: &sqlx::PgPool,
        timeout: std::time::Duration,
    ) -> Result<(), super::Error> {
        let (payload, mark) = self.next_mark();
        let mut seen = self.0.synced.subscribe();
        crate::db::usage::notify_sync(pool, &payload).await?;
        tokio::time::timeout(timeout, seen.wait_for(|s| *s >= mark))
            .await
            .map_err(|_| super::Error::Internal("the change listener did not answer".into()))?
            .map_err(|_| super::Error::Internal("the change listener stopped".into()))?;
        Ok(())
    }
}

/// When an entry loaded at `now` stops being exact by time alone: the earliest
/// end of a meter's period, of an override, or of a past-due subscription's grace
/// (after which it no longer entitles), and at most five minutes after the load.
pub fn fresh_until(
    now: DateTime<Utc>,
    subscription: Option<&SubscriptionRow>,
    overrides: &Overrides,
    periods: impl IntoIterator<Item = Period>,
) -> DateTime<Utc> {
    let grace = subscription
        .filter(|s| s.status == "past_due")
        .and_then(|s| s.grace_until);
    let expiries = overrides.entries.iter().filter_map(|o| o.expires_at);
    periods
        .into_iter()
        .map(|p| p.end)
        .chain(grace)
        .chain(expiries)
        .filter(|t| *t > now)
        .fold(now + chrono::Duration::minutes(5), DateTime::min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::keys::Caller;

    fn entry(until: DateTime<Utc>) -> Arc<AccountEntry> {
        Arc::new(AccountEntry {
            subscription: None,
            overrides: Overrides::default(),
            usage: HashMap::new(),
            fresh_until: until,
        })
    }

    #[test]
    fn nothing_is_answered_or_stored_until_enabled() {
        let c = StateCache::default();
        let a = Uuid::from_u128(1);
        let now = Utc::now();
        assert!(c.account_ticket(a).is_none());
        c.enable();
        let t = c.account_ticket(a).expect("enabled");
        c.put_account(a, t, entry(now + chrono::Duration::seconds(10)));
        assert!(c.account(a, now).is_some());
        c.disable();
        assert!(c.account(a, now).is_none());
        c.enable();
        assert!(c.account(a, now).is_none(), "enabling starts from empty");
    }

    #[test]
    fn a_load_that_raced_a_change_is_not_stored() {
        let c = StateCache::default();
        c.enable();
        let a = Uuid::from_u128(1);
        let now = Utc::now();
        let t = c.account_ticket(a).expect("enabled");
        c.invalidate(&[a]);
        c.put_account(a, t, entry(now + chrono::Duration::seconds(10)));
        assert!(c.account(a, now).is_none(), "stale load refused");
        let t = c.account_ticket(a).expect("enabled");
        c.clear();
        c.put_account(a, t, entry(now + chrono::Duration::seconds(10)));
        assert!(
            c.account(a, now).is_none(),
            "a load from before a clear is refused"
        );
        let t = c.account_ticket(a).expect("enabled");
        c.put_account(a, t, entry(now + chrono::Duration::seconds(10)));
        assert!(c.account(a, now).is_some());
        assert!(
            c.account(a, now + chrono::Duration::seconds(10)).is_none(),
            "fresh_until is exclusive"
        );
        c.invalidate(&[a]);
        assert!(c.account(a, now).is_none());
    }

    #[test]
    fn keys_are_dropped_by_id_and_racing_loads_refused() {
        let c = StateCache::default();
        c.enable();
        let (k1, k2) = (Uuid::from_u128(7), Uuid::from_u128(8));
        let key = |id| {
            Arc::new(KeyEntry {
                caller: Caller::Platform { key_id: id },
                touched: AtomicI64::new(0),
                loaded: std::time::Instant::now(),
            })
        };
        let t = c.key_ticket().expect("enabled");
        c.put_key(b"one".to_vec(), t, key(k1));
        c.put_key(b"two".to_vec(), t, key(k2));
        c.invalidate_key(k1);
        assert!(c.key(b"one").is_none());
        assert!(c.key(b"two").is_some());
        c.put_key(b"one".to_vec(), t, key(k1));
        assert!(c.key(b"one").is_none(), "loaded before the revocation");
    }

    #[test]
    fn only_this_process_marks_count() {
        let (mine, other) = (StateCache::default(), StateCache::default());
        let (payload, n) = mine.next_mark();
        let body = payload
            .strip_prefix(crate::db::usage::SYNC_PREFIX)
            .expect("prefixed");
        assert_eq!(other.synced(body), None, "another process's mark");
        assert_eq!(other.last_synced(), 0);
        assert_eq!(mine.synced(body), Some(n));
        assert_eq!(mine.last_synced(), n);
        assert_eq!(mine.synced("garbage"), None);
    }
}

//! Live fan-out of usage changes. Every committed change NOTIFYs
//! `tollgate_usage` with the account id; each server process LISTENs once and
//! re-broadcasts to its open live-meter streams, so meters move on every process
//! behind a load balancer (PRODUCT.md "Live usage meters").

use super::catalog::CATALOG_CHANNEL;
use super::Tollgate;
use crate::db::{
    self,
    usage::{KEYS_CHANNEL, SYNC_PREFIX, USAGE_CHANNEL},
};
use sqlx::postgres::PgListener;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

/// A change a live stream may need to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The account's usage or plan changed.
    Usage(Uuid),
    /// Notifications may have been missed (the listener reconnected): every stream
    /// should refresh.
    Resync,
}

/// Open live streams per user, and in all, that one server process serves at
/// most (a customer's dashboard tabs and an admin's usage pages count alike).
pub const STREAMS_PER_USER: usize = 8;
/// See [`STREAMS_PER_USER`].
pub const STREAMS_TOTAL: usize = 1000;
/// Open streams of embedded usage widgets per account (see
/// [`LiveHub::open_widget_stream`]).
pub const WIDGET_STREAMS_PER_ACCOUNT: usize = 64;

/// This process's broadcast of [`Change`]s, and the count of its open streams.
#[derive(Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<Change>,
    open: Arc<Mutex<OpenStreams>>,
}

#[derive(Default)]
struct OpenStreams {
    per_user: HashMap<Uuid, usize>,
    total: usize,
}

/// One open stream, counted until dropped.
pub struct StreamSlot {
    open: Arc<Mutex<OpenStreams>>,
    user: Uuid,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_user.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.per_user.remove(&self.user);
            }
        }
    }
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveHub {
    /// A hub; slow receivers that fall 1024 changes behind get a lag error and
    /// should refresh.
    pub fn new() -> Self {
        LiveHub {
            tx: broadcast::channel(1024).0,
            open: Arc::default(),
        }
    }

    /// Counts a new stream of `user` (the person whose session it is), or `None`
    /// when they already hold [`STREAMS_PER_USER`] or the process serves
    /// [`STREAMS_TOTAL`]: the caller answers `429 Too Many Requests`.
    pub fn open_stream(&self, user: Uuid) -> Option<StreamSlot> {
        self.open_stream_capped(user, STREAMS_PER_USER)
    }

    /// An embedded usage widget's stream, counted per account: at most
    /// [`WIDGET_STREAMS_PER_ACCOUNT`] (everyone in the product watching that
    /// account's meter), within [`STREAMS_TOTAL`].
    pub fn open_widget_stream(&self, account: Uuid) -> Option<StreamSlot> {
        self.open_stream_capped(account, WIDGET_STREAMS_PER_ACCOUNT)
    }

    fn open_stream_capped(&self, user: Uuid, cap: usize) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let mine = open.per_user.get(&user).copied().unwrap_or(0);
        if mine >= cap || open.total >= STREAMS_TOTAL {
            return None;
        }
        open.per_user.insert(user, mine + 1);
        open.total += 1;
        Some(StreamSlot {
            open: self.open.clone(),
            user,
        })
    }

    /// A receiver of changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }

    /// Publishes a change to this process's streams (no receivers is fine).
    pub fn publish(&self, change: Change) {
        let _ = self.tx.send(change);
    }
}

/// Starts this process's background listeners: [`listen`] and the admin usage
/// board's upkeep ([`super::admin::usage_board::maintain`]). Needs a Tokio runtime.
pub fn spawn(t: &Tollgate) {
    tokio::spawn(listen(t.clone()));
    tokio::spawn(super::admin::usage_board::maintain(t.clone()));
}

/// Listens for usage, key and catalog changes until the process ends. After any
/// gap (the first connection, a lost connection) the catalog is re-read, the
/// state cache starts again from empty and every stream refreshes, since
/// notifications sent during the gap are lost; the cache answers only while the
/// listener is connected. Failed connections are retried with back-off (1 s
/// doubling to 30 s, back to 1 s once connected).
pub async fn listen(t: Tollgate) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match PgListener::connect_with(&t.pool).await {
            Ok(mut listener) => {
                // sqlx would reconnect inside `try_recv` and answer only later;
                // this loop reconnects itself, so that the state cache stops
                // answering the moment the connection drops and starts again
                // only once LISTEN is in place.
                listener.eager_reconnect(false);
                match listener
                    .listen_all([USAGE_CHANNEL, KEYS_CHANNEL, CATALOG_CHANNEL])
                    .await
                {
                    Ok(()) => {
                        backoff = Duration::from_secs(1);
                        tracing::info!("listening for usage, key and catalog changes");
                        let why = receive(&t, &mut listener).await;
                        t.cache.disable();
                        tracing::warn!(error = %why, "live listener lost its connection");
                        if why.is_reconnect() {
                            // Reconnect soon, but not in a tight loop if the
                            // connection keeps dropping.
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "could not LISTEN"),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "live listener cannot connect; retrying in {:?}", backoff)
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// Why [`receive`] returned.
#[derive(Debug, thiserror::Error)]
enum Lost {
    /// The connection dropped; reconnect at once.
    #[error("the connection dropped")]
    Dropped,
    /// The connection failed.
    #[error(transparent)]
    Failed(#[from] sqlx::Error),
}

impl Lost {
    fn is_reconnect(&self) -> bool {
        matches!(self, Lost::Dropped)
    }
}

/// How often the listener proves its connection alive, and how long it waits for
/// the proof.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// Handles notifications until the connection drops, fails, or stops carrying
/// this process's own heartbeat marks.
async fn receive(t: &Tollgate, listener: &mut PgListener) -> Lost {
    t.cache.enable();
    t.hub_resync().await;
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The mark sent at the last beat, until it comes back.
    let mut awaited: Option<u64> = None;
    loop {
        tokio::select! {
            // Notifications first: a mark waiting behind them is not a dead line.
            biased;
            received = listener.try_recv() => match received {
                Ok(Some(n)) => handle(t, n.channel(), n.payload()).await,
                // The connection dropped: anything sent from now on would be lost.
                Ok(None) => return Lost::Dropped,
                Err(e) => return Lost::Failed(e),
            },
            _ = beat.tick() => {
                if awaited.is_some_and(|mark| t.cache.last_synced() < mark) {
                    // A connection can die without the socket noticing (a failover,
                    // a dropped route): the mark sent a beat ago never came back.
                    return Lost::Dropped;
                }
                let (payload, mark) = t.cache.next_mark();
                match db::usage::notify_sync(&t.pool, &payload).await {
                    Ok(()) => awaited = Some(mark),
                    Err(e) => return Lost::Failed(e),
                }
            }
        }
    }
}

/// One notification.
async fn handle(t: &Tollgate, channel: &str, payload: &str) {
    match channel {
        USAGE_CHANNEL => {
            if let Ok(id) = Uuid::parse_str(payload) {
                t.cache.invalidate(&[id]);
                t.live.publish(Change::Usage(id));
            } else if let Some(mark) = payload.strip_prefix(SYNC_PREFIX) {
                // Marks of other processes are theirs to count.
                let _ = t.cache.synced(mark);
            } else {
                tracing::warn!(payload, "ignored a malformed usage notification");
            }
        }
        KEYS_CHANNEL => match Uuid::parse_str(payload) {
            Ok(id) => t.cache.invalidate_key(id),
            // A key changed and it cannot be told which: forget them all.
            Err(_) => t.cache.clear(),
        },
        CATALOG_CHANNEL => t.hub_resync().await,
        _ => {}
    }
}

impl Tollgate {
    /// Re-reads the catalog, empties the state cache (limits and meters may have
    /// changed) and asks every stream to refresh.
    async fn hub_resync(&self) {
        self.cache.clear();
        if let Err(e) = self.catalog.refresh(&self.pool).await {
            tracing::error!(error = %e, "could not refresh the catalog");
        }
        // Again: an entry loaded meanwhile may have used the old catalog.
        self.cache.clear();
        self.live.publish(Change::Resync);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_capped_per_user_and_freed_when_dropped() {
        let hub = LiveHub::new();
        let (ada, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let held: Vec<StreamSlot> = (0..STREAMS_PER_USER)
            .map(|_| hub.open_stream(ada).expect("under the cap"))
            .collect();
        assert!(
            hub.open_stream(ada).is_none(),
            "one more than the cap is refused"
        );
        assert!(
            hub.open_stream(bob).is_some(),
            "another user is not affected"
        );
        drop(held);
        assert!(
            hub.open_stream(ada).is_some(),
            "closing streams frees their slots"
        );
        assert_eq!(
            hub.open.lock().unwrap().total,
            0,
            "every slot is released on drop"
        );
    }

    #[test]
    fn streams_are_capped_in_all() {
        let hub = LiveHub::new();
        let held: Vec<StreamSlot> = (0..STREAMS_TOTAL)
            .map(|i| {
                hub.open_stream(Uuid::from_u128(i as u128))
                    .expect("under the cap")
            })
            .collect();
        assert!(hub.open_stream(Uuid::from_u128(u128::MAX)).is_none());
        drop(held);
    }

    #[test]
    fn an_account_s_widget_streams_have_their_own_cap() {
        let hub = LiveHub::new();
        let account = Uuid::from_u128(7);
        let held: Vec<StreamSlot> = (0..WIDGET_STREAMS_PER_ACCOUNT)
            .map(|_| hub.open_widget_stream(account).expect("under the cap"))
            .collect();
        assert!(held.len() > STREAMS_PER_USER, "more than one person's tabs");
        assert!(hub.open_widget_stream(account).is_none());
        assert!(hub.open_widget_stream(Uuid::from_u128(8)).is_some());
    }
}

//! Live fan-out of usage changes. Every committed change NOTIFYs
//! `tollgate_usage` with the account id; each server process LISTENs once and
//! re-broadcasts to its open live-meter streams, so meters move on every process
//! behind a load balancer (PRODUCT.md "Live usage meters").

use super::catalog::CATALOG_CHANNEL;
use super::Tollgate;
use crate::db::usage::USAGE_CHANNEL;
use sqlx::postgres::PgListener;
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

/// This process's broadcast of [`Change`]s.
#[derive(Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<Change>,
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
        LiveHub { tx: broadcast::channel(1024).0 }
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

/// Listens for usage and catalog changes until the process ends. After any gap
/// (the first connection, a lost connection, sqlx's own silent reconnect) the
/// catalog is re-read and every stream refreshes, since notifications sent during
/// the gap are lost. Failed connections are retried with back-off (1 s doubling to
/// 30 s, back to 1 s once connected).
pub async fn listen(t: Tollgate) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match PgListener::connect_with(&t.pool).await {
            Ok(mut listener) => match listener.listen_all([USAGE_CHANNEL, CATALOG_CHANNEL]).await {
                Ok(()) => {
                    backoff = Duration::from_secs(1);
                    tracing::info!("listening for usage and catalog changes");
                    let e = receive(&t, &mut listener).await;
                    tracing::warn!(error = %e, "live listener lost its connection");
                }
                Err(e) => tracing::warn!(error = %e, "could not LISTEN"),
            },
            Err(e) => tracing::warn!(error = %e, "live listener cannot connect; retrying in {:?}", backoff),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// Handles notifications until the connection fails for good.
async fn receive(t: &Tollgate, listener: &mut PgListener) -> sqlx::Error {
    t.hub_resync().await;
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => match n.channel() {
                USAGE_CHANNEL => match Uuid::parse_str(n.payload()) {
                    Ok(id) => t.live.publish(Change::Usage(id)),
                    Err(_) => tracing::warn!(payload = n.payload(), "ignored a malformed usage notification"),
                },
                CATALOG_CHANNEL => t.hub_resync().await,
                _ => {}
            },
            // The connection dropped and sqlx reconnected: anything sent meanwhile is lost.
            Ok(None) => {
                tracing::warn!("live listener reconnected; refreshing everything");
                t.hub_resync().await;
            }
            Err(e) => return e,
        }
    }
}

impl Tollgate {
    /// Re-reads the catalog and asks every stream to refresh.
    async fn hub_resync(&self) {
        if let Err(e) = self.catalog.refresh(&self.pool).await {
            tracing::error!(error = %e, "could not refresh the catalog");
        }
        self.live.publish(Change::Resync);
    }
}

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

/// Listens for usage and catalog changes until the process ends, reconnecting with
/// back-off (1 s doubling to 30 s) when the connection drops.
pub async fn listen(t: Tollgate) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match listen_once(&t).await {
            Ok(()) => backoff = Duration::from_secs(1),
            Err(e) => tracing::warn!(error = %e, "live listener lost its connection; retrying in {:?}", backoff),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

async fn listen_once(t: &Tollgate) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(&t.pool).await?;
    listener.listen_all([USAGE_CHANNEL, CATALOG_CHANNEL]).await?;
    tracing::info!("listening for usage and catalog changes");
    // Anything that happened while disconnected was missed.
    t.hub_resync().await;
    loop {
        let n = listener.recv().await?;
        match n.channel() {
            USAGE_CHANNEL => match Uuid::parse_str(n.payload()) {
                Ok(id) => t.live.publish(Change::Usage(id)),
                Err(_) => tracing::warn!(payload = n.payload(), "ignored a malformed usage notification"),
            },
            CATALOG_CHANNEL => {
                if let Err(e) = t.catalog.refresh(&t.pool).await {
                    tracing::error!(error = %e, "could not refresh the catalog");
                }
                t.live.publish(Change::Resync);
            }
            _ => {}
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

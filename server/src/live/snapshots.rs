//! The dashboard data the live streams send, computed once per change for all the
//! streams of one user on one account (issue 12, "live stream amplification": each
//! open tab ran the dashboard's queries again for every change).
//!
//! After a change, the first stream of a (account, user) pair to ask computes the
//! data; the others, waiting on the same slot, take that result when it was
//! computed after they woke (so it holds the change they woke for). A slot lives
//! while a stream of its pair is open.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::time::Instant;
use uuid::Uuid;

type Slot = Arc<tokio::sync::Mutex<Option<(Instant, Arc<str>)>>>;

/// The shared data, per (account, user).
#[derive(Default)]
pub struct Snapshots {
    slots: Mutex<HashMap<(Uuid, Uuid), (usize, Slot)>>,
}

/// A stream's hold on its pair's slot; the slot goes with the last hold.
pub struct Hold {
    snapshots: Arc<Snapshots>,
    key: (Uuid, Uuid),
    slot: Slot,
}

impl Snapshots {
    /// Registers a stream of `user_id` on `account_id`.
    pub fn hold(self: &Arc<Self>, account_id: Uuid, user_id: Uuid) -> Hold {
        let key = (account_id, user_id);
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let entry = slots.entry(key).or_insert_with(|| (0, Slot::default()));
        entry.0 += 1;
        Hold {
            snapshots: self.clone(),
            key,
            slot: entry.1.clone(),
        }
    }

    /// Pairs with at least one open stream (for tests and metrics).
    pub fn len(&self) -> usize {
        self.slots.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Whether no stream is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Hold {
    /// The data as of a moment after `woke_at`: the pair's last result if it was
    /// computed (started) after then, else a new one from `load`, kept for the
    /// pair's other streams. A failed load is not kept.
    ///
    /// # Errors
    /// `load`'s.
    pub async fn get<E, F, Fut>(&self, woke_at: Instant, load: F) -> Result<Arc<str>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<String, E>>,
    {
        let mut last = self.slot.lock().await;
        if let Some((at, data)) = last.as_ref() {
            if *at >= woke_at {
                return Ok(data.clone());
            }
        }
        let started = Instant::now();
        let data: Arc<str> = load().await?.into();
        *last = Some((started, data.clone()));
        Ok(data)
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let mut slots = self
            .snapshots
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = slots.get_mut(&self.key) {
            entry.0 -= 1;
            if entry.0 == 0 {
                slots.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    async fn slow_load(loads: &AtomicUsize) -> Result<String, ()> {
        let n = loads.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(30)).await;
        Ok(format!("load {n}"))
    }

    #[tokio::test]
    async fn tabs_woken_by_one_change_share_one_load_and_a_later_change_loads_again() {
        let snapshots = Arc::new(Snapshots::default());
        let (account, user) = (Uuid::now_v7(), Uuid::now_v7());
        let tabs: Vec<Hold> = (0..3).map(|_| snapshots.hold(account, user)).collect();
        let other = snapshots.hold(account, Uuid::now_v7());
        let loads = AtomicUsize::new(0);
        let woke = Instant::now();
        let got =
            futures::future::join_all(tabs.iter().map(|t| t.get(woke, || slow_load(&loads)))).await;
        assert_eq!(loads.load(Ordering::SeqCst), 1, "one load for three tabs");
        assert!(got.iter().all(|g| g.as_deref() == Ok("load 1")), "{got:?}");
        assert_eq!(
            other.get(woke, || slow_load(&loads)).await.as_deref(),
            Ok("load 2"),
            "another user loads their own"
        );

        let later = Instant::now();
        assert_eq!(
            tabs[0].get(later, || slow_load(&loads)).await.as_deref(),
            Ok("load 3"),
            "a later change loads again"
        );
        assert_eq!(
            tabs[1].get(later, || slow_load(&loads)).await.as_deref(),
            Ok("load 3")
        );

        assert_eq!(snapshots.len(), 2);
        drop(tabs);
        assert_eq!(
            snapshots.len(),
            1,
            "a pair's slot goes with its last stream"
        );
        drop(other);
        assert!(snapshots.is_empty());
    }

    #[tokio::test]
    async fn a_failed_load_is_not_kept() {
        let snapshots = Arc::new(Snapshots::default());
        let hold = snapshots.hold(Uuid::now_v7(), Uuid::now_v7());
        let woke = Instant::now();
        assert_eq!(
            hold.get(woke, || async { Err::<String, _>("down") }).await,
            Err("down")
        );
        assert_eq!(
            hold.get(woke, || async { Ok::<_, &str>("up".to_string()) })
                .await
                .as_deref(),
            Ok("up")
        );
    }
}

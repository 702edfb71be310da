//! `GET /live/usage`: a Server-Sent Events stream of the signed-in account's
//! dashboard data (`?org={slug}`: of that organization, for its members only). It
//! sends the current data at once, then again after each change of that account's
//! usage, plan or notifications (fanned out through PostgreSQL NOTIFY, so a change
//! made through any server process arrives). A user's tabs on one account share
//! one computation of the data per change ([`super::snapshots`]).

use super::snapshots::Hold;
use crate::serve::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{self, Stream};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tollgate::db::sessions;
use tollgate::service::admin::impersonation::{self, Impersonation};
use tollgate::service::live::{Change, StreamSlot};
use tollgate::service::{auth, Tollgate};
use tollgate_app::server::ctx::{signed_in_with, IMPERSONATION_KEY};
use tollgate_app::server::dashboard::ssr::load;
use tower_sessions::session::Id;
use tower_sessions::Session;
use uuid::Uuid;

/// Changes arriving within this window are sent as one update.
const COALESCE: Duration = Duration::from_millis(50);
/// A stream without changes re-checks who is asking this often (an impersonation
/// that ran out, a session that expired), sending nothing when all is well.
const RECHECK: Duration = Duration::from_secs(30);

struct LiveState {
    tollgate: Tollgate,
    session_id: Id,
    /// Whose session it is: the user, or the super admin impersonating them.
    session_user: Uuid,
    /// Whose data is shown.
    user_id: Uuid,
    /// The impersonation the stream was opened under: it ends with it.
    impersonation: Option<Impersonation>,
    account_id: Uuid,
    changes: tokio::sync::broadcast::Receiver<Change>,
    first: bool,
    /// When the change being sent arrived (the stream's start for the first send).
    woke_at: tokio::time::Instant,
    /// The dashboard data this user's tabs on this account share.
    snapshot: Hold,
    /// Counts this stream against the caps until it ends.
    _slot: StreamSlot,
}

impl LiveState {
    /// Whether the stream may still send: the session still exists in the store
    /// (not logged out or expired), its user is not disabled, the user is still a
    /// member of the account (a removed member's stream ends at the next change),
    /// and a stream opened while impersonating still has that impersonation: the
    /// session holds it, it has not run out, and the admin is still an enabled
    /// super admin (stopping it, or its end, ends the stream).
    async fn allowed(&self) -> bool {
        let pool = &self.tollgate.pool;
        let Ok(Some((Some(user), held))) =
            sessions::live_user_and(pool, &self.session_id, IMPERSONATION_KEY).await
        else {
            return false;
        };
        let held = held.and_then(|v| serde_json::from_value::<Impersonation>(v).ok());
        if user != self.session_user || held != self.impersonation {
            return false;
        }
        let viewer_ok = match &self.impersonation {
            None => self.session_user == self.user_id,
            Some(imp) => {
                !imp.expired(chrono::Utc::now())
                    && matches!(impersonation::still_valid(pool, imp).await, Ok(Some(_)))
            }
        };
        viewer_ok
            && matches!(auth::session_user(pool, self.user_id).await, Ok(Some(_)))
            && matches!(
                tollgate::db::accounts::role_of(pool, self.account_id, self.user_id).await,
                Ok(Some(_))
            )
    }
}

/// The query of the stream.
#[derive(Debug, serde::Deserialize)]
pub struct LiveQuery {
    /// An organization's slug; without it, the session's account.
    org: Option<String>,
}

/// The stream; `401` when signed out, `404` for an organization the user does not
/// belong to, `429` when the user (or the process) holds the most streams allowed
/// ([`tollgate::service::live::STREAMS_PER_USER`]).
pub async fn usage_stream(
    State(state): State<AppState>,
    Query(query): Query<LiveQuery>,
    session: Session,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, StatusCode> {
    let snapshots = state.snapshots.clone();
    let t = state.tollgate.clone();
    let me = signed_in_with(&t, &session)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let account_id = match query.org.as_deref() {
        None => me.account_id,
        Some(slug) => {
            let found = tollgate::service::organizations::for_member(&t.pool, slug, me.user.id)
                .await
                .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
            found.ok_or(StatusCode::NOT_FOUND)?.0.id
        }
    };
    let session_id = session.id().ok_or(StatusCode::UNAUTHORIZED)?;
    let changes = t.live.subscribe();
    let session_user = me.impersonator.unwrap_or(me.user.id);
    let impersonation = match me.impersonator {
        None => None,
        Some(_) => Some(
            session
                .get::<Impersonation>(IMPERSONATION_KEY)
                .await
                .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
                .ok_or(StatusCode::UNAUTHORIZED)?,
        ),
    };
    let slot = t
        .live
        .open_stream(session_user)
        .ok_or(StatusCode::TOO_MANY_REQUESTS)?;
    let init = LiveState {
        tollgate: t,
        session_id,
        session_user,
        user_id: me.user.id,
        impersonation,
        account_id,
        changes,
        first: true,
        woke_at: tokio::time::Instant::now(),
        snapshot: snapshots.hold(account_id, me.user.id),
        _slot: slot,
    };
    let updates = stream::unfold(Some(init), |state| async move {
        let mut s = state?;
        while !s.first {
            match wait_for_change(&mut s).await {
                Wake::Changed => break,
                Wake::Closed => return None,
                Wake::Recheck if s.allowed().await => continue,
                Wake::Recheck => {
                    return Some((Ok(Event::default().event("end").data("signed out")), None))
                }
            }
        }
        s.first = false;
        // Re-check who is asking on every update, from the database: a log-out,
        // a disabled user or a removed member stops the data at once.
        if !s.allowed().await {
            return Some((Ok(Event::default().event("end").data("signed out")), None));
        }
        // Computed once per change for all of this user's tabs on the account.
        let (tollgate, account_id, user_id) = (s.tollgate.clone(), s.account_id, s.user_id);
        let data = s
            .snapshot
            .get(s.woke_at, || async move {
                let data = load(&tollgate, account_id, user_id)
                    .await
                    .map_err(|e| e.to_string())?;
                serde_json::to_string(&data).map_err(|e| e.to_string())
            })
            .await;
        match data {
            Ok(json) => Some((Ok(Event::default().data(json.as_ref())), Some(s))),
            Err(e) => Some((Ok(Event::default().event("end").data(e)), None)),
        }
    });
    Ok(Sse::new(updates).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Why [`wait_for_change`] returned.
enum Wake {
    /// The account changed (or everything must refresh): send an update.
    Changed,
    /// Nothing changed for [`RECHECK`]: check who is asking, send nothing.
    Recheck,
    /// The hub closed.
    Closed,
}

/// Waits until this stream's account changed (or everything must refresh), then
/// lets a burst of changes settle; or until [`RECHECK`] passed without a change.
async fn wait_for_change(s: &mut LiveState) -> Wake {
    // One deadline for the whole wait: other accounts' changes arriving all the
    // time must not put the re-check off.
    let recheck_at = tokio::time::Instant::now() + RECHECK;
    loop {
        match tokio::time::timeout_at(recheck_at, s.changes.recv()).await {
            Err(_) => return Wake::Recheck,
            Ok(Ok(Change::Usage(id))) if id != s.account_id => continue,
            Ok(Ok(_) | Err(RecvError::Lagged(_))) => break,
            Ok(Err(RecvError::Closed)) => return Wake::Closed,
        }
    }
    s.woke_at = tokio::time::Instant::now();
    tokio::time::sleep(COALESCE).await;
    while s.changes.try_recv().is_ok() {}
    Wake::Changed
}

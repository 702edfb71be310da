//! `GET /live/usage`: a Server-Sent Events stream of the signed-in account's
//! dashboard data (`?org={slug}`: of that organization, for its members only). It
//! sends the current data at once, then again after each change of that account's
//! usage, plan or notifications (fanned out through PostgreSQL NOTIFY, so a change
//! made through any server process arrives).

use crate::serve::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{self, Stream};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tollgate::db::sessions;
use tollgate::service::live::{Change, StreamSlot};
use tollgate::service::{auth, Tollgate};
use tollgate_app::server::ctx::signed_in_with;
use tollgate_app::server::dashboard::ssr::load;
use tower_sessions::session::Id;
use tower_sessions::Session;
use uuid::Uuid;

/// Changes arriving within this window are sent as one update.
const COALESCE: Duration = Duration::from_millis(50);

struct LiveState {
    tollgate: Tollgate,
    session_id: Id,
    /// Whose session it is: the user, or the super admin impersonating them.
    session_user: Uuid,
    /// Whose data is shown.
    user_id: Uuid,
    account_id: Uuid,
    changes: tokio::sync::broadcast::Receiver<Change>,
    first: bool,
    /// Counts this stream against the caps until it ends.
    _slot: StreamSlot,
}

impl LiveState {
    /// Whether the stream may still send: the session still exists in the store
    /// (not logged out or expired), its user is not disabled, an impersonating
    /// admin is still an enabled super admin, and the user is still a member of the
    /// account (a removed member's stream ends at the next change).
    async fn allowed(&self) -> bool {
        let pool = &self.tollgate.pool;
        let admin_ok = self.session_user == self.user_id
            || matches!(auth::session_user(pool, self.session_user).await, Ok(Some(admin)) if admin.is_super_admin);
        admin_ok
            && matches!(sessions::live_user(pool, &self.session_id).await, Ok(Some(u)) if u == self.session_user)
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
    let t = state.tollgate;
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
    let slot = t
        .live
        .open_stream(session_user)
        .ok_or(StatusCode::TOO_MANY_REQUESTS)?;
    let init = LiveState {
        tollgate: t,
        session_id,
        session_user,
        user_id: me.user.id,
        account_id,
        changes,
        first: true,
        _slot: slot,
    };
    let updates = stream::unfold(Some(init), |state| async move {
        let mut s = state?;
        if !s.first && !wait_for_change(&mut s).await {
            return None;
        }
        s.first = false;
        // Re-check who is asking on every update, from the database: a log-out,
        // a disabled user or a removed member stops the data at once.
        if !s.allowed().await {
            return Some((Ok(Event::default().event("end").data("signed out")), None));
        }
        match load(&s.tollgate, s.account_id, s.user_id).await {
            Ok(data) => match serde_json::to_string(&data) {
                Ok(json) => Some((Ok(Event::default().data(json)), Some(s))),
                Err(_) => None,
            },
            Err(e) => Some((Ok(Event::default().event("end").data(e.to_string())), None)),
        }
    });
    Ok(Sse::new(updates).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Waits until this stream's account changed (or everything must refresh), then
/// lets a burst of changes settle. False when the hub closed.
async fn wait_for_change(s: &mut LiveState) -> bool {
    loop {
        match s.changes.recv().await {
            Ok(Change::Usage(id)) if id != s.account_id => continue,
            Ok(_) | Err(RecvError::Lagged(_)) => break,
            Err(RecvError::Closed) => return false,
        }
    }
    tokio::time::sleep(COALESCE).await;
    while s.changes.try_recv().is_ok() {}
    true
}

//! `GET /admin/live/usage?accounts={id},{id}…`: a Server-Sent Events stream of the
//! usage board for a super admin acting as themself (`/admin/usage` and the admin
//! account pages). The first message is the board now for the watched accounts;
//! each later one is a [`Update`] computed once per change by the process's board
//! and only filtered here: the watched accounts that changed, and the new totals.
//! No query runs per stream per change; who is asking is re-read from the
//! database at most every [`RECHECK`].

use crate::serve::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{self, Stream};
use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::{error::RecvError, Receiver};
use tollgate::board::Update;
use tollgate::db::sessions;
use tollgate::service::live::StreamSlot;
use tollgate::service::{auth, Tollgate};
use tollgate_app::server::ctx::signed_in_with;
use tower_sessions::session::Id;
use tower_sessions::Session;
use uuid::Uuid;

/// Accounts one stream may watch (two pages of `/admin/usage`).
pub const MAX_WATCHED: usize = 100;
/// How often the stream re-reads that its session and super admin still exist.
pub const RECHECK: Duration = Duration::from_secs(10);

/// The query of the stream.
#[derive(Debug, serde::Deserialize)]
pub struct BoardQuery {
    /// Comma-separated account ids whose meters the page shows.
    accounts: Option<String>,
}

struct BoardState {
    tollgate: Tollgate,
    session_id: Id,
    admin: Uuid,
    watched: HashSet<Uuid>,
    updates: Receiver<Arc<Update>>,
    first: Option<Update>,
    checked: Instant,
    _slot: StreamSlot,
}

impl BoardState {
    /// Whether the session still exists and its user is still an enabled super admin.
    async fn allowed(&self) -> bool {
        let pool = &self.tollgate.pool;
        matches!(sessions::live_user(pool, &self.session_id).await, Ok(Some(u)) if u == self.admin)
            && matches!(auth::session_user(pool, self.admin).await, Ok(Some(u)) if u.is_super_admin)
    }

    /// The next message: the first one, or the next update concerning this stream.
    /// `None` when the board's channel closed.
    async fn next(&mut self) -> Option<Update> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        match self.updates.recv().await {
            Ok(u) => Some(Update {
                version: u.version,
                accounts: u
                    .accounts
                    .iter()
                    .filter(|a| self.watched.contains(&a.account_id))
                    .cloned()
                    .collect(),
                removed: u
                    .removed
                    .iter()
                    .filter(|id| self.watched.contains(id))
                    .copied()
                    .collect(),
                summary: u.summary.clone(),
            }),
            Err(RecvError::Lagged(_)) => Some(self.tollgate.board.current(&self.watched)),
            Err(RecvError::Closed) => None,
        }
    }
}

/// Reads `a,b,c` as account ids; `400` for a malformed id or more than
/// [`MAX_WATCHED`].
fn watched(accounts: Option<&str>) -> Result<HashSet<Uuid>, StatusCode> {
    let ids: HashSet<Uuid> = accounts
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| Uuid::parse_str(s.trim()).map_err(|_| StatusCode::BAD_REQUEST))
        .collect::<Result<_, _>>()?;
    if ids.len() > MAX_WATCHED {
        return Err(StatusCode::BAD_REQUEST);
    }
    Ok(ids)
}

/// The stream; `401` when signed out, `403` for anyone but a super admin acting as
/// themself, `400` for a bad account list, `429` over the stream caps.
pub async fn board_stream(
    State(state): State<AppState>,
    Query(query): Query<BoardQuery>,
    session: Session,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, StatusCode> {
    let t = state.tollgate.clone();
    let me = signed_in_with(&t, &session)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .ok_or(StatusCode::UNAUTHORIZED)?;
    if me.impersonator.is_some() || !me.user.is_super_admin {
        return Err(StatusCode::FORBIDDEN);
    }
    let watched = watched(query.accounts.as_deref())?;
    let session_id = session.id().ok_or(StatusCode::UNAUTHORIZED)?;
    let slot = t
        .live
        .open_stream(me.user.id)
        .ok_or(StatusCode::TOO_MANY_REQUESTS)?;
    // Subscribe before reading the board, so no update falls between the two.
    let updates = t.board.subscribe();
    t.board
        .ensure_loaded(&t)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let first = Some(t.board.current(&watched));
    let init = BoardState {
        tollgate: t,
        session_id,
        admin: me.user.id,
        watched,
        updates,
        first,
        checked: Instant::now(),
        _slot: slot,
    };
    let events = stream::unfold(Some(init), |state| async move {
        let mut s = state?;
        let update = s.next().await?;
        if s.checked.elapsed() >= RECHECK {
            if !s.allowed().await {
                return Some((Ok(Event::default().event("end").data("signed out")), None));
            }
            s.checked = Instant::now();
        }
        match serde_json::to_string(&update) {
            Ok(json) => Some((Ok(Event::default().data(json)), Some(s))),
            Err(_) => None,
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_list_is_parsed_and_bounded() {
        let a = Uuid::from_u128(1);
        assert_eq!(watched(None), Ok(HashSet::new()));
        assert_eq!(watched(Some(&format!("{a}, {a},"))), Ok(HashSet::from([a])));
        assert_eq!(watched(Some("not-an-id")), Err(StatusCode::BAD_REQUEST));
        let many: Vec<String> = (0..=MAX_WATCHED as u128)
            .map(|i| Uuid::from_u128(i).to_string())
            .collect();
        assert_eq!(watched(Some(&many.join(","))), Err(StatusCode::BAD_REQUEST));
    }
}

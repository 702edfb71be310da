//! `GET /embed/usage/live?token=`: the usage widget's Server-Sent Events stream.
//! It sends the meters at once, then after each change of the account's usage
//! (fanned out through PostgreSQL NOTIFY, changes within 50 ms sent as one),
//! until the token expires (an `end` event with `expired`). The widget streams of
//! one account share one computation per change ([`crate::live::snapshots`],
//! under the nil user: no person's dashboard has it). Streams count
//! against the live hub's caps: 64 per account, within the process's total.

use super::pages::usage_view;
use super::{admit, TokenQuery};
use crate::live::snapshots::Hold;
use crate::serve::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tollgate::embed::Widget;
use tollgate::service::live::{Change, StreamSlot};

/// Changes arriving within this window are sent as one update.
const COALESCE: Duration = Duration::from_millis(50);

struct Live {
    state: AppState,
    account_id: uuid::Uuid,
    changes: tokio::sync::broadcast::Receiver<Change>,
    expires: tokio::time::Instant,
    first: bool,
    /// When the change being sent arrived (the stream's start for the first send).
    woke_at: tokio::time::Instant,
    /// The widget data this account's widget streams share.
    snapshot: Hold,
    _slot: StreamSlot,
}

/// The stream (`401` for a bad token, `429` past the caps).
pub async fn usage_stream(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let claims = match admit(&state, &q, Widget::Usage).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(slot) = state.tollgate.live.open_widget_stream(claims.account_id) else {
        return StatusCode::TOO_MANY_REQUESTS.into_response();
    };
    let left = u64::try_from(claims.expires_at - chrono::Utc::now().timestamp()).unwrap_or(0);
    let init = Live {
        changes: state.tollgate.live.subscribe(),
        account_id: claims.account_id,
        expires: tokio::time::Instant::now() + Duration::from_secs(left),
        first: true,
        woke_at: tokio::time::Instant::now(),
        snapshot: state.snapshots.hold(claims.account_id, uuid::Uuid::nil()),
        state,
        _slot: slot,
    };
    let updates = stream::unfold(Some(init), |live| async move {
        let mut s = live?;
        if !s.first {
            match wait(&mut s).await {
                Wake::Changed => {}
                Wake::Expired => {
                    return Some((Ok::<_, std::convert::Infallible>(Event::default().event("end").data("expired")), None))
                }
                Wake::Closed => return None,
            }
        }
        s.first = false;
        let (state, account_id) = (s.state.clone(), s.account_id);
        let data = s
            .snapshot
            .get(s.woke_at, || async move {
                let view = usage_view(&state, account_id).await.map_err(|e| e.to_string())?;
                serde_json::to_string(&view).map_err(|e| e.to_string())
            })
            .await;
        match data {
            Ok(json) => Some((Ok(Event::default().data(json.as_ref())), Some(s))),
            Err(e) => Some((Ok(Event::default().event("end").data(e)), None)),
        }
    });
    let res = Sse::new(updates)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    super::framed_by(res, &claims.origin)
}

enum Wake {
    Changed,
    Expired,
    Closed,
}

/// Waits for a change of this account (or a resync), then lets a burst settle;
/// or for the token's expiry.
async fn wait(s: &mut Live) -> Wake {
    loop {
        match tokio::time::timeout_at(s.expires, s.changes.recv()).await {
            Err(_) => return Wake::Expired,
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

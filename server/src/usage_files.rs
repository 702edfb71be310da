//! Usage downloads (issue 13, "Take the data away"): an account's raw events or
//! daily rollup as CSV for its owner and admins (`GET /usage/export.csv`), and the
//! rollup of every account or the events of one for super admins
//! (`GET /admin/usage/export.csv`).
//!
//! Files stream: rows are read a page at a time by key ([`PAGE`] rows, a
//! connection taken per page and given back), written as CSV and sent, so no
//! file is ever whole in memory and no connection waits on a slow download. At
//! most [`EXPORTS_AT_ONCE`] exports run at once (`429` beyond), each for at most
//! [`EXPORT_TIME`]; a failure mid-way ends the download unfinished (the client
//! sees a truncated transfer, never a short file that looks whole).

use crate::serve::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Days, NaiveDate, Utc};
use serde::Deserialize;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tollgate::db::usage::EventCursor;
use tollgate::db::usage_rollups::{DayCursor, Figures};
use tollgate::export::text_cell;
use tower_sessions::Session;
use uuid::Uuid;

/// Rows read per page.
pub const PAGE: i64 = 5_000;
/// Exports running at once, over the process.
pub const EXPORTS_AT_ONCE: usize = 4;
/// The longest one export may take.
pub const EXPORT_TIME: Duration = Duration::from_secs(600);
/// The longest range of raw events one file holds, in days.
pub const MAX_EVENT_DAYS: u64 = 366;
/// The longest range of daily rollup one file holds, in days (ten years).
pub const MAX_DAILY_DAYS: u64 = 3_660;

static RUNNING: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(EXPORTS_AT_ONCE)));

/// What to export: `kind` `events` (default) or `daily`; days `from` (inclusive)
/// and `to` (exclusive), `YYYY-MM-DD` UTC, by default the last 30 days; `account`
/// (uuid) on the admin route only (absent: every account, for the daily rollup).
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
    account: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Events,
    Daily,
}

/// A checked export request.
struct Export {
    kind: Kind,
    account: Option<Uuid>,
    from: NaiveDate,
    to: NaiveDate,
}

fn bad(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, message.into()).into_response()
}

/// Checks the query; the error is the `400`'s message.
fn parse(q: &ExportQuery, account: Option<Uuid>) -> Result<Export, String> {
    let kind = match q.kind.as_deref().map(str::trim) {
        None | Some("") | Some("events") => Kind::Events,
        Some("daily") => Kind::Daily,
        Some(other) => return Err(format!("`kind` is events or daily, not `{other}`")),
    };
    let day = |field: &str, s: &Option<String>| -> Result<Option<NaiveDate>, String> {
        match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| format!("`{field}` is a day, YYYY-MM-DD, not `{s}`")),
        }
    };
    let to = day("to", &q.to)?.unwrap_or(Utc::now().date_naive() + Days::new(1));
    let from = day("from", &q.from)?.unwrap_or(to - Days::new(30));
    if from >= to {
        return Err("`from` must be before `to`".into());
    }
    let most = match kind {
        Kind::Events => MAX_EVENT_DAYS,
        Kind::Daily => MAX_DAILY_DAYS,
    };
    if (to - from).num_days() > i64::try_from(most).unwrap_or(i64::MAX) {
        return Err(format!("at most {most} days in one file"));
    }
    if kind == Kind::Events && account.is_none() {
        return Err("raw events are exported one account at a time: name the `account`".into());
    }
    Ok(Export {
        kind,
        account,
        from,
        to,
    })
}

/// Who is asking (`401` signed out, `403` when the session cannot be read).
async fn signed_in(
    state: &AppState,
    session: &Session,
) -> Result<tollgate_app::server::ctx::SignedIn, Response> {
    crate::billing_files::who(&state.tollgate, session)
        .await
        .map_err(IntoResponse::into_response)
}

/// The signed-in user when they own or administer the acting account (`401`
/// signed out, `403` for other members).
pub(crate) async fn owner_or_admin(
    state: &AppState,
    session: &Session,
) -> Result<tollgate_app::server::ctx::SignedIn, Response> {
    let me = signed_in(state, session).await?;
    let role = tollgate::db::accounts::role_of(&state.tollgate.pool, me.account_id, me.user.id)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())?;
    if !matches!(role.as_deref(), Some("owner" | "admin")) {
        return Err((StatusCode::FORBIDDEN, "Only the account's owner and admins download its usage.").into_response());
    }
    Ok(me)
}

/// `GET /usage/export.csv`: the signed-in account's usage, for its owner and
/// admins (`403` for other members, `401` signed out).
pub async fn account_export(
    State(state): State<AppState>,
    Query(q): Query<ExportQuery>,
    session: Session,
) -> Response {
    let me = match owner_or_admin(&state, &session).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    match parse(&q, Some(me.account_id)) {
        Ok(e) => stream(&state, e),
        Err(message) => bad(message),
    }
}

/// `GET /admin/usage/export.csv`: any account's usage, or every account's daily
/// rollup, for a super admin acting as themself.
pub async fn admin_export(
    State(state): State<AppState>,
    Query(q): Query<ExportQuery>,
    session: Session,
) -> Response {
    let me = match signed_in(&state, &session).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    if !me.user.is_super_admin || me.impersonator.is_some() {
        return StatusCode::FORBIDDEN.into_response();
    }
    let account = match q.account.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match Uuid::parse_str(s) {
            Ok(id) => Some(id),
            Err(_) => return bad(format!("`account` is an account's uuid, not `{s}`")),
        },
    };
    match parse(&q, account) {
        Ok(e) => stream(&state, e),
        Err(message) => bad(message),
    }
}

/// Where a download is.
struct Progress {
    pool: sqlx::PgPool,
    export: Export,
    header: bool,
    events: Option<EventCursor>,
    days: Option<DayCursor>,
    done: bool,
    started: Instant,
    _permit: OwnedSemaphorePermit,
}

fn stream(state: &AppState, export: Export) -> Response {
    let Ok(permit) = RUNNING.clone().try_acquire_owned() else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "60")],
            "Too many exports are running; try again in a minute.",
        )
            .into_response();
    };
    let name = format!(
        "usage-{}-{}-{}.csv",
        match export.kind {
            Kind::Events => "events",
            Kind::Daily => "daily",
        },
        export.from,
        export.to - Days::new(1)
    );
    let progress = Progress {
        pool: state.tollgate.pool.clone(),
        export,
        header: false,
        events: None,
        days: None,
        done: false,
        started: Instant::now(),
        _permit: permit,
    };
    // Fused: the body may be polled once more after its end.
    let body = futures::StreamExt::fuse(futures::stream::unfold(progress, |mut p| async move {
        if p.done {
            return None;
        }
        if p.started.elapsed() > EXPORT_TIME {
            p.done = true;
            return Some((Err(std::io::Error::other("the export took too long")), p));
        }
        match page(&mut p).await {
            Ok(bytes) => Some((Ok(bytes), p)),
            Err(e) => {
                tracing::warn!(error = %e, "a usage export failed mid-way");
                p.done = true;
                Some((Err(std::io::Error::other("the export failed")), p))
            }
        }
    }));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// The columns of rollup figures in a CSV file, after its own: `user_id`,
/// `dimensions`, `events`, `quantity`, `max_quantity`, `last_quantity`, `cost`
/// (the daily export and the stored monthly reports alike).
pub(crate) fn figure_cells(f: &Figures) -> [String; 7] {
    [
        f.user_id.map(|u| u.to_string()).unwrap_or_default(),
        text_cell(&f.dimensions.to_string()).into_owned(),
        f.events.to_string(),
        f.quantity.normalize().to_string(),
        f.max_quantity.normalize().to_string(),
        f.last_quantity.normalize().to_string(),
        f.cost.normalize().to_string(),
    ]
}

/// The next page of the file (the header first), as CSV.
async fn page(p: &mut Progress) -> anyhow::Result<Bytes> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(512 * 1024));
    let e = &p.export;
    match e.kind {
        Kind::Events => {
            if !p.header {
                w.write_record([
                    "id", "meter", "occurred_at", "received_at", "quantity", "user_id",
                    "idempotency_key", "properties",
                ])?;
                p.header = true;
            }
            let account = e.account.unwrap_or_default();
            let from = e.from.and_time(chrono::NaiveTime::MIN).and_utc();
            let to = e.to.and_time(chrono::NaiveTime::MIN).and_utc();
            let rows = tollgate::db::usage::export_events(&p.pool, account, from, to, p.events.as_ref(), PAGE)
                .await?;
            p.done = rows.len() < usize::try_from(PAGE).unwrap_or(usize::MAX);
            for r in &rows {
                w.write_record([
                    r.id.to_string(),
                    r.meter.clone(),
                    r.occurred_at.to_rfc3339(),
                    r.received_at.to_rfc3339(),
                    r.quantity.normalize().to_string(),
                    r.user_id.map(|u| u.to_string()).unwrap_or_default(),
                    text_cell(&r.idempotency_key).into_owned(),
                    text_cell(&r.properties.to_string()).into_owned(),
                ])?;
            }
            p.events = rows.last().map(|r| (r.meter.clone(), r.occurred_at, r.id));
        }
        Kind::Daily => {
            if !p.header {
                w.write_record([
                    "account_id", "meter", "day", "user_id", "dimensions", "events", "quantity",
                    "max_quantity", "last_quantity", "cost",
                ])?;
                p.header = true;
            }
            let rows = tollgate::db::usage_rollups::export_days(&p.pool, e.account, e.from, e.to, p.days.as_ref(), PAGE)
                .await?;
            p.done = rows.is_empty();
            for r in &rows {
                let head = [r.account_id.to_string(), r.meter.clone(), r.day.to_string()];
                w.write_record(head.into_iter().chain(figure_cells(&r.figures)))?;
            }
            p.days = rows.last().map(|r| (r.account_id, r.meter.clone(), r.day));
        }
    }
    Ok(Bytes::from(w.into_inner()?))
}

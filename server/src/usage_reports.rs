//! `GET /usage/reports/{YYYY-MM}.csv`: a stored monthly usage report of the
//! acting account, for its owner and admins
//! ([`tollgate::service::usage_reports`]). A report holds one line per meter,
//! member and property values (never more than the month's rollup groups), so
//! it is written whole.

use crate::serve::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use crate::usage_files::figure_cells;
use tollgate::service::{usage_reports, Error};
use tower_sessions::Session;

/// The report file of `file` (`2026-11.csv`).
pub async fn download(
    State(state): State<AppState>,
    Path(file): Path<String>,
    session: Session,
) -> Response {
    let me = match crate::usage_files::owner_or_admin(&state, &session).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let Some(month) = file.strip_suffix(".csv").and_then(|m| usage_reports::parse_month(m).ok()) else {
        return (StatusCode::NOT_FOUND, "No such report: reports are named YYYY-MM.csv.").into_response();
    };
    let t = &state.tollgate;
    let (report, lines) = match usage_reports::get(t, me.account_id, month).await {
        Ok(found) => found,
        Err(Error::NotFound(m)) => return (StatusCode::NOT_FOUND, m).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "reading a usage report failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    match csv_of(&report, &lines) {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"usage-{}.csv\"", month.format("%Y-%m")),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "writing a usage report failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn csv_of(
    report: &tollgate::db::usage_reports::Report,
    lines: &[tollgate::db::usage_reports::Line],
) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "month", "generated_at", "meter", "user_id", "dimensions", "events", "quantity",
        "max_quantity", "last_quantity", "cost",
    ])?;
    let month = report.month.format("%Y-%m").to_string();
    let generated = report.generated_at.to_rfc3339();
    for l in lines {
        let head = [month.clone(), generated.clone(), l.meter.clone()];
        w.write_record(head.into_iter().chain(figure_cells(&l.figures)))?;
    }
    Ok(w.into_inner()?)
}

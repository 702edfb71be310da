//! `/admin/usage`: the usage board across every subscribed account, read from the
//! process's in-memory board (no query per page beyond who is asking).

use crate::error::AppError;
use crate::model::admin::UsageBoardView;
use leptos::prelude::*;

/// One page (1-based) of the board's lines: on `plan`, of `meter`, in `state`
/// (`ok`, `warning`, `limit_reached`, `blocked`), sorted by `sort` (`percent_desc`
/// (default), `percent_asc`, `name`). Empty values mean "any".
///
/// # Errors
/// Signed out: sign-in required; not a super admin acting as themself: forbidden;
/// an unknown state or sort: a form error naming the field.
#[server(prefix = "/_fn", endpoint = "admin_usage")]
pub async fn admin_usage(
    plan: Option<String>,
    meter: Option<String>,
    state: Option<String>,
    sort: Option<String>,
    page: Option<u32>,
) -> Result<UsageBoardView, AppError> {
    use crate::error::FormError;
    use crate::model::admin::ListPage;
    use tollgate::board::{parse_state, Filter, Sort};
    use tollgate::service::admin::usage_board::LINES_PER_PAGE;
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let keep = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let state = match keep(state) {
        None => None,
        Some(s) => Some(parse_state(&s).ok_or_else(|| {
            AppError::Form(FormError::field(
                "state",
                "Choose ok, warning, limit_reached or blocked.",
            ))
        })?),
    };
    let sort = match keep(sort) {
        None => Sort::default(),
        Some(s) => Sort::parse(&s).ok_or_else(|| {
            AppError::Form(FormError::field(
                "sort",
                "Sort by percent_desc, percent_asc or name.",
            ))
        })?,
    };
    let page = page.unwrap_or(1).max(1);
    let filter = Filter {
        plan: keep(plan),
        meter: keep(meter),
        state,
    };
    let found = t
        .board
        .page(&t, &me.actor(), &filter, sort, (page - 1) as usize)
        .await?;
    let catalog = t.catalog.get().ok();
    Ok(UsageBoardView {
        list: ListPage {
            rows: found.lines,
            total: i64::try_from(found.total).unwrap_or(i64::MAX),
            page,
            page_size: LINES_PER_PAGE as i64,
            plans: super::plan_options(&t),
        },
        summary: found.summary,
        meters: catalog
            .map(|c| {
                c.meters
                    .iter()
                    .map(|m| (m.key.to_string(), m.name.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Any account's usage charts for its admin page: the account `account` (uuid),
/// or the personal account of the user `user` (uuid); `meter` a catalog key
/// (absent or unknown: the first meter).
///
/// # Errors
/// Signed out: sign-in required; not a super admin acting as themself: forbidden;
/// neither or an unknown account or user: not found.
#[server(prefix = "/_fn", endpoint = "admin_usage_charts")]
pub async fn admin_usage_charts(
    account: Option<String>,
    user: Option<String>,
    meter: Option<String>,
) -> Result<crate::model::UsageChartsView, AppError> {
    super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let id = match (account, user) {
        (Some(a), _) => super::parse_id(&a, "account")?,
        (None, Some(u)) => {
            let user = super::parse_id(&u, "user")?;
            tollgate::db::accounts::personal_of(&t.pool, user)
                .await
                .map_err(tollgate::service::Error::from)?
                .ok_or_else(|| AppError::NotFound("This user has no personal account.".into()))?
                .id
        }
        (None, None) => return Err(AppError::NotFound("There is no such account.".into())),
    };
    crate::server::dashboard::ssr::charts(&t, id, meter.as_deref()).await
}

/// `/admin/costs?month=YYYY-MM` (default: this month, UTC): what usage cost the
/// operator by model and by client, beside what the clients were invoiced.
///
/// # Errors
/// Signed out: sign-in required; not a super admin acting as themself: forbidden;
/// a month that does not parse: a form error naming `month`.
#[server(prefix = "/_fn", endpoint = "admin_costs")]
pub async fn admin_costs(month: Option<String>) -> Result<crate::model::admin::CostsView, AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let month = month
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| chrono::Utc::now().format("%Y-%m").to_string());
    let period = tollgate::invoice::schedule::billing_month(&month)
        .map_err(|e| crate::error::FormError::field("month", e))?;
    let r = tollgate::service::admin::costs::report(&t, &me.actor(), period).await?;
    let catalog = t.catalog.get()?;
    Ok(crate::server::usage_charts::costs_view(&month, &catalog, &r))
}

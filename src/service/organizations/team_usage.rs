//! Usage of an organization's current periods broken down by member, from the
//! usage events' acting `user` (API.md: events carry an optional `user`, resolved
//! to a member when ingested).

use super::super::accounts;
use super::super::{Error, Tollgate};
use crate::catalog::Aggregation;
use crate::db;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use uuid::Uuid;

/// A meter column of the breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Meter key.
    pub meter: String,
    /// Display name.
    pub name: String,
    /// Unit, singular.
    pub unit: String,
    /// True for peak meters (each row shows the member's largest value).
    pub peak: bool,
}

/// One row: a member, or the events attributed to nobody who is a member now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The member (`None` for the unattributed row).
    pub user_id: Option<Uuid>,
    /// Name (or "Not attributed to a member").
    pub name: String,
    /// E-mail of a member.
    pub email: Option<String>,
    /// Role of a member.
    pub role: Option<String>,
    /// Usage per column, in column order.
    pub values: Vec<Decimal>,
}

/// The breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakdown {
    /// Meters counted per member (`last` meters are levels of the whole account and
    /// are left out).
    pub columns: Vec<Column>,
    /// Members first (all of them, zero usage included), then the unattributed row
    /// when it has usage.
    pub rows: Vec<Row>,
}

/// The per-member usage of `account_id` in each meter's current period at `now`,
/// for any member of it.
///
/// # Errors
/// [`Error::NotFound`] for non-members; [`Error::NoCatalog`].
pub async fn by_member(
    t: &Tollgate,
    account_id: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<Breakdown, Error> {
    let mut conn = t.pool.acquire().await?;
    super::roles::role_in(&mut conn, account_id, by).await?;
    drop(conn);
    let catalog = t.catalog.get()?;
    let state = accounts::state(&t.pool, account_id).await?;
    let standing = state.standing();
    let members = db::memberships::members(&t.pool, account_id).await?;
    let index: HashMap<Uuid, usize> = members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.user_id, i))
        .collect();
    let meters: Vec<_> = catalog
        .meters
        .iter()
        .filter(|m| m.aggregation != Aggregation::Last)
        .collect();
    let mut values = vec![vec![Decimal::ZERO; meters.len()]; members.len() + 1];
    for (col, m) in meters.iter().enumerate() {
        let period = standing.meter_period(&catalog, m.key.as_str(), now);
        let peak = m.aggregation == Aggregation::Max;
        for (user, v) in db::memberships::usage_by_user(
            &t.pool,
            account_id,
            m.key.as_str(),
            period.start,
            period.end,
            peak,
        )
        .await?
        {
            let row = user
                .and_then(|u| index.get(&u).copied())
                .unwrap_or(members.len());
            let cell = &mut values[row][col];
            *cell = if peak { (*cell).max(v) } else { *cell + v };
        }
    }
    let unattributed = values.pop().unwrap_or_default();
    let mut rows: Vec<Row> = members
        .into_iter()
        .zip(values)
        .map(|(m, values)| Row {
            user_id: Some(m.user_id),
            name: m.name,
            email: Some(m.email),
            role: Some(m.role),
            values,
        })
        .collect();
    if unattributed.iter().any(|v| !v.is_zero()) {
        rows.push(Row {
            user_id: None,
            name: "Not attributed to a member".into(),
            email: None,
            role: None,
            values: unattributed,
        });
    }
    let columns = meters
        .iter()
        .map(|m| Column {
            meter: m.key.to_string(),
            name: m.name.clone(),
            unit: m.unit.clone(),
            peak: m.aggregation == Aggregation::Max,
        })
        .collect();
    Ok(Breakdown { columns, rows })
}

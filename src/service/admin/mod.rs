//! The super admin panel ("godtier"): finding users and organizations, disabling
//! users, impersonation and support tools. Every function here first checks that
//! the actor is a super admin acting as themself: a super admin who impersonates
//! someone has only that user's powers.

pub mod accounts;
pub mod analytics;
pub mod billing;
pub mod costs;
pub mod impersonation;
pub mod look_up;
pub mod overrides;
pub mod plan_edits;
pub mod platform_keys;
pub mod price_migration;
pub mod support;
pub mod usage_board;
pub mod users;

use super::{Actor, Error};
use crate::db::{self, users::UserRow};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Rows per page of the admin lists.
pub const PAGE_SIZE: i64 = 25;

/// The super admin behind `actor`.
///
/// # Errors
/// [`Error::Forbidden`] unless `actor` is a user acting as themself (not
/// impersonated) who is a super admin and not disabled.
pub async fn require_super_admin(db: impl PgExecutor<'_>, actor: &Actor) -> Result<UserRow, Error> {
    let refused = || Error::Forbidden("Only super admins may do this.".into());
    let Actor::User {
        id,
        impersonator: None,
    } = actor
    else {
        return Err(refused());
    };
    match db::users::by_id(db, *id).await? {
        Some(u) if u.is_super_admin && u.disabled_at.is_none() => Ok(u),
        _ => Err(refused()),
    }
}

/// Page `page` (1-based) as `(limit, offset)`; pages below 1 read as 1.
pub fn page_window(page: u32) -> (i64, i64) {
    (PAGE_SIZE, (i64::from(page.max(1)) - 1) * PAGE_SIZE)
}

/// The user with `id`.
///
/// # Errors
/// [`Error::NotFound`] when there is none.
pub(crate) async fn user(db: impl PgExecutor<'_>, id: Uuid) -> Result<UserRow, Error> {
    db::users::by_id(db, id)
        .await?
        .ok_or_else(|| Error::NotFound("There is no such user.".into()))
}

/// Appends an audit entry for an admin action about `target_kind` `target_id`.
pub(crate) async fn audit(
    db: impl PgExecutor<'_>,
    actor: &Actor,
    action: &str,
    target: (&str, String),
    account_id: Option<Uuid>,
    details: serde_json::Value,
) -> Result<(), Error> {
    db::audit::record(
        db,
        &db::audit::Entry {
            actor,
            action,
            target_kind: target.0,
            target_id: target.1,
            account_id,
            ip: None,
            details,
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_start_at_one() {
        assert_eq!(page_window(0), (25, 0));
        assert_eq!(page_window(1), (25, 0));
        assert_eq!(page_window(3), (25, 50));
    }
}

//! Seats of an organization on a per-seat plan. The seats in use are the members
//! plus the pending invitations: an invitation reserves its seat, so accepting one
//! never goes past what was bought. Without a live per-seat subscription nothing is
//! bought and nothing is limited; choosing a team plan buys a seat for each member
//! and pending invitation (see [`crate::service::plans::choose`]).

use super::super::accounts::Role;
use super::super::{Actor, Error, Tollgate};
use crate::db;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Most seats one change may set (a guard against typing mistakes).
pub const MAX_SEATS: i32 = 10_000;

/// How the organization's seats are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatUse {
    /// Members (each takes a seat).
    pub members: i64,
    /// Pending invitations (each reserves a seat).
    pub pending: i64,
    /// Seats bought: the live subscription's seats when its plan is priced per
    /// seat; `None` when nothing limits them.
    pub purchased: Option<i32>,
}

impl SeatUse {
    /// Seats taken or reserved.
    pub fn used(&self) -> i64 {
        self.members + self.pending
    }

    /// Whether one more invitation fits.
    pub fn has_free_seat(&self) -> bool {
        self.purchased.is_none_or(|p| self.used() < i64::from(p))
    }
}

/// Seats the organization needs now: members plus pending invitations, at least 1.
///
/// # Errors
/// A database error.
pub async fn demand(
    db: &mut sqlx::PgConnection,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<i32, Error> {
    let members = db::accounts::member_count(&mut *db, account_id).await?;
    let pending = db::invitations::pending_count(&mut *db, account_id, now).await?;
    Ok(i32::try_from(members + pending).unwrap_or(i32::MAX).max(1))
}

/// The organization's seat use at `now`.
///
/// # Errors
/// A database error, or no catalog.
pub async fn seat_use(
    t: &Tollgate,
    db: &mut sqlx::PgConnection,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<SeatUse, Error> {
    let members = db::accounts::member_count(&mut *db, account_id).await?;
    let pending = db::invitations::pending_count(&mut *db, account_id, now).await?;
    let catalog = t.catalog.get()?;
    let purchased = db::subscriptions::live_for_account(&mut *db, account_id)
        .await?
        .and_then(|s| {
            let per_seat = catalog
                .plan(&s.plan_key)
                .and_then(|p| p.price_for(s.cycle().interval, s.kept_price_at(now)))
                .is_some_and(|p| p.per_seat);
            per_seat.then_some(s.seats)
        });
    Ok(SeatUse {
        members,
        pending,
        purchased,
    })
}

/// The owner sets the seats bought to `seats`, through the subscription's payment
/// provider ([`crate::service::provider::PaymentProvider::set_seats`]): the manual
/// provider applies it at once with a proration on the next invoice, Stripe changes
/// the subscription's quantity (an increase is invoiced and charged at once).
/// Audited as `subscription.seats_changed`.
///
/// # Errors
/// [`Error::NotFound`] for non-members; [`Error::Forbidden`] for anyone but the
/// owner; [`Error::Invalid`] (field `seats`) below the seats in use or above
/// [`MAX_SEATS`]; [`Error::Conflict`] without a live subscription; provider failures.
pub async fn set_seats(
    t: &Tollgate,
    account_id: Uuid,
    by: Uuid,
    seats: i32,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let sub = {
        let mut conn = t.pool.acquire().await?;
        if super::roles::role_in(&mut conn, account_id, by).await? != Role::Owner {
            return Err(Error::Forbidden("Only the owner changes seats.".into()));
        }
        check_seats(&mut conn, account_id, seats, now).await?;
        db::subscriptions::live_for_account(&mut *conn, account_id)
            .await?
            .ok_or_else(|| {
                Error::Conflict("Choose a team plan first; seats are bought with it.".into())
            })?
    };
    if sub.seats == seats {
        return Ok(());
    }
    crate::service::provider::for_subscription(t, &sub)?
        .set_seats(t, &sub, seats, actor, now)
        .await
}

/// Checks that `seats` is a seat count the organization may buy at `now`: within
/// 1..=[`MAX_SEATS`] and not below the seats in use.
///
/// # Errors
/// [`Error::Invalid`] (field `seats`); database errors.
pub(crate) async fn check_seats(
    db: &mut sqlx::PgConnection,
    account_id: Uuid,
    seats: i32,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if !(1..=MAX_SEATS).contains(&seats) {
        return Err(Error::invalid(
            "seats",
            format!("Choose between 1 and {MAX_SEATS} seats."),
        ));
    }
    let used = demand(db, account_id, now).await?;
    if seats < used {
        return Err(Error::invalid("seats", format!("{used} seats are in use (members and pending invitations). Remove members or revoke invitations first.")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_invitations_take_seats() {
        let s = SeatUse {
            members: 2,
            pending: 1,
            purchased: Some(3),
        };
        assert_eq!(s.used(), 3);
        assert!(!s.has_free_seat());
        assert!(SeatUse {
            purchased: Some(4),
            ..s
        }
        .has_free_seat());
        assert!(SeatUse {
            purchased: None,
            ..s
        }
        .has_free_seat());
    }
}

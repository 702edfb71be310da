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
pub async fn demand(db: &mut sqlx::PgConnection, account_id: Uuid, now: DateTime<Utc>) -> Result<i32, Error> {
    let members = db::accounts::member_count(&mut *db, account_id).await?;
    let pending = db::invitations::pending_count(&mut *db, account_id, now).await?;
    Ok(i32::try_from(members + pending).unwrap_or(i32::MAX).max(1))
}

/// The organization's seat use at `now`.
///
/// # Errors
/// A database error, or no catalog.
pub async fn seat_use(t: &Tollgate, db: &mut sqlx::PgConnection, account_id: Uuid, now: DateTime<Utc>) -> Result<SeatUse, Error> {
    let members = db::accounts::member_count(&mut *db, account_id).await?;
    let pending = db::invitations::pending_count(&mut *db, account_id, now).await?;
    let catalog = t.catalog.get()?;
    let purchased = db::subscriptions::live_for_account(&mut *db, account_id).await?.and_then(|s| {
        let per_seat = catalog.plan(&s.plan_key).and_then(|p| p.price(s.cycle().interval)).is_some_and(|p| p.per_seat);
        per_seat.then_some(s.seats)
    });
    Ok(SeatUse { members, pending, purchased })
}

/// The owner sets the seats bought to `seats`; with the manual provider this applies
/// at once. Audited as `subscription.seats_changed`.
///
/// # Errors
/// [`Error::NotFound`] for non-members; [`Error::Forbidden`] for anyone but the
/// owner; [`Error::Invalid`] (field `seats`) below the seats in use or above
/// [`MAX_SEATS`]; [`Error::Conflict`] without a live subscription, or when Stripe bills it
/// (seat sync with Stripe is not built yet).
pub async fn set_seats(t: &Tollgate, account_id: Uuid, by: Uuid, seats: i32, actor: &Actor, now: DateTime<Utc>) -> Result<(), Error> {
    let mut tx = t.pool.begin().await?;
    db::memberships::lock_account(&mut *tx, account_id).await?;
    if super::roles::role_in(&mut tx, account_id, by).await? != Role::Owner {
        return Err(Error::Forbidden("Only the owner changes seats.".into()));
    }
    if !(1..=MAX_SEATS).contains(&seats) {
        return Err(Error::invalid("seats", format!("Choose between 1 and {MAX_SEATS} seats.")));
    }
    let used = demand(&mut tx, account_id, now).await?;
    if seats < used {
        return Err(Error::invalid("seats", format!("{used} seats are in use (members and pending invitations). Remove members or revoke invitations first.")));
    }
    let sub = db::subscriptions::live_for_account(&mut *tx, account_id)
        .await?
        .ok_or_else(|| Error::Conflict("Choose a team plan first; seats are bought with it.".into()))?;
    if sub.provider == "stripe" {
        return Err(Error::Conflict("Seats of a card-paid plan are billed by Stripe; changing them in Tollgate is not available yet.".into()));
    }
    if sub.seats == seats {
        return Ok(());
    }
    db::memberships::set_seats(&mut *tx, account_id, seats).await?;
    let catalog = t.catalog.get()?;
    let interval = sub.interval.parse().unwrap_or(crate::period::Interval::Month);
    let status = sub.status();
    let proration = (status != crate::subscription::Status::Trialing)
        .then(|| catalog.plan(&sub.plan_key).and_then(|p| p.price(interval)))
        .flatten()
        .map(|price| {
            let amount = |n: i32| crate::invoice::charges::period_amount(price, u32::try_from(n.max(1)).unwrap_or(1));
            crate::proration::prorate(amount(sub.seats), amount(seats), sub.cycle().period_containing(now), now).net()
        });
    db::subscriptions::record_change(
        &mut *tx,
        &db::subscriptions::Change {
            subscription_id: sub.id,
            account_id,
            from: Some((sub.plan_key.as_str(), interval, status)),
            to: (sub.plan_key.as_str(), interval, status),
            changed_by: actor.user_id(),
            seats: Some((sub.seats, seats)),
            proration,
            at: now,
        },
    )
    .await?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "subscription.seats_changed",
            target_kind: "subscription",
            target_id: sub.id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: serde_json::json!({ "from": sub.seats, "to": seats, "provider": sub.provider }),
        },
    )
    .await?;
    db::usage::notify_changed(&mut *tx, &[account_id]).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_invitations_take_seats() {
        let s = SeatUse { members: 2, pending: 1, purchased: Some(3) };
        assert_eq!(s.used(), 3);
        assert!(!s.has_free_seat());
        assert!(SeatUse { purchased: Some(4), ..s }.has_free_seat());
        assert!(SeatUse { purchased: None, ..s }.has_free_seat());
    }
}

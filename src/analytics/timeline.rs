//! A subscription's terms over time, rebuilt from what the database keeps: the
//! row itself (created, trial ended, canceled) and its plan history
//! (`subscription_changes`: every plan, interval, seat and Stripe status change,
//! with the terms it moved to).
//!
//! The manual provider records no history row when a trial ends or a
//! subscription ends at its period end; the row's `trial_ended_at` and
//! `canceled_at` fill those in.

use crate::catalog::Price;
use crate::period::Interval;
use crate::subscription::Status;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What a subscription was on, from an instant on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// Plan key.
    pub plan: String,
    pub interval: Interval,
    /// Seats (≥ 1).
    pub seats: u32,
    pub status: Status,
    /// The grandfathered price on this plan and interval, if the subscriber keeps
    /// one (`None`: the catalog's price).
    pub price: Option<Price>,
}

/// Terms from `from` (UTC, inclusive) until the next segment; `terms: None` means
/// the subscription had ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub from: DateTime<Utc>,
    pub terms: Option<Terms>,
}

/// A subscription and its segments, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub subscription_id: Uuid,
    pub account_id: Uuid,
    /// `manual` or `stripe` (the provider billing it now).
    pub provider: String,
    pub segments: Vec<Segment>,
}

impl History {
    /// The terms in force just before `t` (segments starting strictly before it);
    /// `None` before the subscription began or after it ended.
    pub fn before(&self, t: DateTime<Utc>) -> Option<&Terms> {
        self.segments
            .iter()
            .take_while(|s| s.from < t)
            .last()
            .and_then(|s| s.terms.as_ref())
    }
}

/// A `subscriptions` row, as far as its history needs it.
#[derive(Debug, Clone)]
pub struct SubscriptionFacts {
    pub id: Uuid,
    pub account_id: Uuid,
    pub provider: String,
    pub plan: String,
    pub interval: Interval,
    pub seats: u32,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    /// When its trial ended (the manual provider records no history row then).
    pub trial_ended_at: Option<DateTime<Utc>>,
    pub canceled_at: Option<DateTime<Utc>>,
    /// The grandfathered price of its current plan and interval, if any, and the
    /// instant (UTC) an operator's move to the current price takes effect.
    pub kept_price: Option<Price>,
    pub kept_until: Option<DateTime<Utc>>,
}

/// A `subscription_changes` row: the terms a change moved to.
#[derive(Debug, Clone)]
pub struct ChangeFacts {
    pub plan: String,
    pub interval: Interval,
    /// Seats after the change, when recorded.
    pub seats: Option<u32>,
    pub status: Status,
    pub at: DateTime<Utc>,
}

/// Rebuilds a subscription's history from its row and its changes (oldest first).
///
/// Without recorded changes, the subscription is taken to have had its current
/// terms since it was created (trialing first when it had a trial). A change
/// without seats keeps the seats before it. A trial that ended without a
/// recorded change becomes active then, on the same terms; the subscription ends
/// at `canceled_at`, and anything recorded after that is dropped. Terms on the
/// row's current plan and interval carry its grandfathered price until
/// `kept_until`.
pub fn build(row: &SubscriptionFacts, changes: &[ChangeFacts]) -> History {
    let mut segments: Vec<Segment> = Vec::with_capacity(changes.len() + 2);
    if changes.is_empty() {
        let had_trial = row.status == Status::Trialing || row.trial_ended_at.is_some();
        let status = match row.status {
            _ if had_trial => Status::Trialing,
            Status::Canceled => Status::Active,
            other => other,
        };
        segments.push(Segment {
            from: row.created_at,
            terms: Some(terms(row, row.seats, status)),
        });
    } else {
        let mut seats = changes.first().and_then(|c| c.seats).unwrap_or(row.seats);
        for c in changes {
            seats = c.seats.unwrap_or(seats).max(1);
            let t = Terms {
                plan: c.plan.clone(),
                interval: c.interval,
                seats,
                status: c.status,
                price: kept(row, &c.plan, c.interval),
            };
            segments.push(Segment {
                from: c.at,
                terms: Some(t),
            });
        }
    }
    if let Some(ended) = row.trial_ended_at.filter(|e| Some(*e) != row.canceled_at) {
        end_trial(&mut segments, ended);
    }
    if let Some(until) = row.kept_until {
        end_kept_price(&mut segments, until);
    }
    if let Some(c) = row.canceled_at {
        segments.retain(|s| s.from < c);
        segments.push(Segment {
            from: c,
            terms: None,
        });
    }
    History {
        subscription_id: row.id,
        account_id: row.account_id,
        provider: row.provider.clone(),
        segments,
    }
}

fn terms(row: &SubscriptionFacts, seats: u32, status: Status) -> Terms {
    Terms {
        plan: row.plan.clone(),
        interval: row.interval,
        seats: seats.max(1),
        status,
        price: row.kept_price.clone(),
    }
}

/// The row's grandfathered price, for terms on its current plan and interval (the
/// price was kept from before the catalog changed it, so it is what those terms
/// cost all along; a plan change in between ends it).
fn kept(row: &SubscriptionFacts, plan: &str, interval: Interval) -> Option<Price> {
    row.kept_price
        .clone()
        .filter(|_| row.plan == plan && row.interval == interval)
}

/// From `until` on, the terms pay the catalog's price: a segment starts there
/// when one with a kept price runs across it.
fn end_kept_price(segments: &mut Vec<Segment>, until: DateTime<Utc>) {
    for s in segments.iter_mut().filter(|s| s.from >= until) {
        if let Some(t) = &mut s.terms {
            t.price = None;
        }
    }
    let Some(i) = segments.iter().rposition(|s| s.from < until) else {
        return;
    };
    let Some(t) = segments[i].terms.clone().filter(|t| t.price.is_some()) else {
        return;
    };
    if segments.get(i + 1).is_none_or(|n| n.from != until) {
        segments.insert(
            i + 1,
            Segment {
                from: until,
                terms: Some(Terms { price: None, ..t }),
            },
        );
    }
}

/// Inserts "active from `ended`" after the trialing segment that `ended` falls in,
/// unless a recorded change already starts there.
fn end_trial(segments: &mut Vec<Segment>, ended: DateTime<Utc>) {
    let Some(i) = segments.iter().rposition(|s| s.from < ended) else {
        return;
    };
    let next_from = segments.get(i + 1).map(|s| s.from);
    if next_from.is_some_and(|n| n <= ended) {
        return;
    }
    let Some(t) = segments[i]
        .terms
        .clone()
        .filter(|t| t.status == Status::Trialing)
    else {
        return;
    };
    segments.insert(
        i + 1,
        Segment {
            from: ended,
            terms: Some(Terms {
                status: Status::Active,
                ..t
            }),
        },
    );
}

//! The double's test clock: moves one customer's time forward and runs what Stripe would run on
//! the way — trial-ending notices, trial ends, renewals with usage, cancellations at period end —
//! like a Stripe test clock attached to that customer
//! (<https://docs.stripe.com/billing/testing/test-clocks>).

use serde_json::Value;

use crate::billing::DAY;
use crate::error::ApiError;
use crate::state::{find, find_mut, Store};

/// What happens next to a subscription, and when.
enum Step {
    TrialWillEnd,
    PeriodEnd,
}

impl Store {
    /// Advances subscription `id`'s customer to `to`, or by default to the end of the subscription's
    /// current period (its renewal). Returns the subscription afterwards.
    pub fn advance_subscription(&mut self, id: &str, to: Option<i64>) -> Result<Value, ApiError> {
        let sub = self.sub(id)?;
        let (customer, end) = (sub.customer.clone(), sub.period_end);
        self.advance_customer(&customer, to.unwrap_or(end))?;
        self.render_subscription(id)
    }

    /// Moves `customer`'s clock to `to` (never backwards), running every due step of its
    /// subscriptions in time order: `customer.subscription.trial_will_end` three days before a
    /// trial ends; at a period end either the end of a subscription set to cancel at period end
    /// (`customer.subscription.deleted`) or the renewal — period moved
    /// (`customer.subscription.updated`), invoice with usage in arrears, prorations and the next
    /// period in advance created, finalized and charged.
    pub fn advance_customer(&mut self, customer: &str, to: i64) -> Result<(), ApiError> {
        let now = self.now_for(Some(customer));
        if to < now {
            return Err(ApiError::invalid(
                "to",
                format!("The clock can only move forward: it is {now}, {to} is earlier."),
            ));
        }
        for _ in 0..10_000 {
            let Some((at, sub, step)) = self.next_step(customer, to) else {
                break;
            };
            find_mut(&mut self.customers, customer, "customer", "customer", |c| {
                &c.id
            })?
            .clock = Some(at.max(now));
            match step {
                Step::TrialWillEnd => {
                    if let Some(s) = self.subscriptions.iter_mut().find(|s| s.id == sub) {
                        s.trial_will_end_sent = true;
                    }
                    let json = self.render_subscription(&sub)?;
                    self.emit("customer.subscription.trial_will_end", json, None);
                }
                Step::PeriodEnd => self.period_end(&sub)?,
            }
        }
        find_mut(&mut self.customers, customer, "customer", "customer", |c| {
            &c.id
        })?
        .clock = Some(to);
        Ok(())
    }

    fn next_step(&self, customer: &str, to: i64) -> Option<(i64, String, Step)> {
        let mut best: Option<(i64, String, Step)> = None;
        for sub in self
            .subscriptions
            .iter()
            .filter(|s| s.customer == customer && s.live() && s.status != "incomplete")
        {
            let mut candidates = vec![(sub.period_end, Step::PeriodEnd)];
            if let (Some(end), "trialing", false) =
                (sub.trial_end, sub.status.as_str(), sub.trial_will_end_sent)
            {
                candidates.push((
                    (end - 3 * DAY).max(sub.trial_start.unwrap_or(end)),
                    Step::TrialWillEnd,
                ));
            }
            for (at, step) in candidates {
                if at <= to && best.as_ref().is_none_or(|(b, _, _)| at < *b) {
                    best = Some((at, sub.id.clone(), step));
                }
            }
        }
        best
    }

    fn period_end(&mut self, id: &str) -> Result<(), ApiError> {
        let sub = find(&self.subscriptions, id, "subscription", "id", |s| &s.id)?.clone();
        let (start, end) = (sub.period_start, sub.period_end);
        let trial_ending = sub.status == "trialing";
        if sub.cancel_at_period_end {
            let mut lines = if trial_ending {
                Vec::new()
            } else {
                self.usage_lines(id, start, end)?
            };
            lines.extend(self.take_pending_lines(id));
            self.end_subscription(id, end)?;
            if lines.iter().any(|l| l.amount != 0) {
                let invoice = self.create_invoice(
                    &sub.customer,
                    Some(id),
                    "subscription_cycle",
                    lines,
                    (start, end),
                )?;
                self.finalize_and_charge(&invoice)?;
            }
            return Ok(());
        }
        let before = self.render_subscription(id)?;
        let next_end = sub.interval.next_boundary(sub.anchor, end);
        let mut lines = if trial_ending {
            Vec::new()
        } else {
            self.usage_lines(id, start, end)?
        };
        lines.extend(self.take_pending_lines(id));
        let s = find_mut(&mut self.subscriptions, id, "subscription", "id", |s| &s.id)?;
        s.period_start = end;
        s.period_end = next_end;
        if trial_ending {
            s.status = "active".into();
        }
        let after = self.render_subscription(id)?;
        self.emit_changed("customer.subscription.updated", &before, after);
        lines.extend(self.period_lines(id, end, next_end, false)?);
        let invoice = self.create_invoice(
            &sub.customer,
            Some(id),
            "subscription_cycle",
            lines,
            (start, end),
        )?;
        self.finalize_and_charge(&invoice)
    }
}

//! Notification kinds and each user's preferences (issue 14, "Every promised
//! notification, with preferences"): which kinds Tollgate shows in the app and
//! e-mails, and which of them a user may turn off. Invoices and payment problems
//! are transactional (legally and practically owed to the customer): they cannot
//! be turned off.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What a notification is about. The names are the `kind` stored with each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A usage threshold of a meter's limit reached (seed 000, "Warning Thresholds").
    LimitWarning,
    /// Usage went past a meter's limit.
    LimitExceeded,
    /// The trial ends in 3 days.
    TrialEnding,
    /// The subscription was canceled and has ended.
    SubscriptionEnded,
    /// A billing period ended, with its usage.
    BillingCycleEnded,
    /// An invoice was issued.
    InvoiceIssued,
    /// A payment arrived (an invoice paid, a failed payment recovered).
    PaymentReceived,
    /// A card payment failed.
    PaymentFailed,
    /// An invoice is overdue and the subscription past due.
    PaymentOverdue,
    /// A webhook endpoint was disabled after failing for 3 days.
    WebhookDisabled,
}

impl Kind {
    /// Every kind, in the preferences' order.
    pub const ALL: [Kind; 10] = [
        Kind::LimitWarning,
        Kind::LimitExceeded,
        Kind::TrialEnding,
        Kind::SubscriptionEnded,
        Kind::BillingCycleEnded,
        Kind::InvoiceIssued,
        Kind::PaymentReceived,
        Kind::PaymentFailed,
        Kind::PaymentOverdue,
        Kind::WebhookDisabled,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::LimitWarning => "limit_warning",
            Kind::LimitExceeded => "limit_exceeded",
            Kind::TrialEnding => "trial_ending",
            Kind::SubscriptionEnded => "subscription_ended",
            Kind::BillingCycleEnded => "billing_cycle_ended",
            Kind::InvoiceIssued => "invoice_issued",
            Kind::PaymentReceived => "payment_received",
            Kind::PaymentFailed => "payment_failed",
            Kind::PaymentOverdue => "payment_overdue",
            Kind::WebhookDisabled => "webhook_disabled",
        }
    }

    /// Parses a stored name (`payment_recovered`, an older name, reads as
    /// [`Kind::PaymentReceived`]).
    pub fn parse(s: &str) -> Option<Kind> {
        if s == "payment_recovered" {
            return Some(Kind::PaymentReceived);
        }
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// For the preferences.
    pub fn label(self) -> &'static str {
        match self {
            Kind::LimitWarning => "Usage thresholds reached",
            Kind::LimitExceeded => "Usage past a limit",
            Kind::TrialEnding => "Trial ending in 3 days",
            Kind::SubscriptionEnded => "Subscription canceled",
            Kind::BillingCycleEnded => "Billing period ended, with its usage",
            Kind::InvoiceIssued => "Invoice issued",
            Kind::PaymentReceived => "Payment received",
            Kind::PaymentFailed => "Payment failed",
            Kind::PaymentOverdue => "Invoice overdue",
            Kind::WebhookDisabled => "Webhook endpoint disabled",
        }
    }

    /// Whether it cannot be turned off: invoices and payment problems.
    pub fn transactional(self) -> bool {
        matches!(self, Kind::InvoiceIssued | Kind::PaymentFailed | Kind::PaymentOverdue)
    }

    /// Whether Tollgate e-mails it at all (the others are in-app only).
    pub fn emailed(self) -> bool {
        matches!(
            self,
            Kind::LimitWarning
                | Kind::TrialEnding
                | Kind::InvoiceIssued
                | Kind::PaymentReceived
                | Kind::PaymentFailed
                | Kind::PaymentOverdue
                | Kind::WebhookDisabled
        )
    }
}

/// A channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    InApp,
    Email,
}

/// One user's preferences: the kinds turned off, per channel (everything is on
/// until turned off).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub muted_in_app: BTreeSet<Kind>,
    pub muted_email: BTreeSet<Kind>,
}

/// An unknown kind name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown notification kind `{0}`")]
pub struct UnknownKind(pub String);

impl Preferences {
    /// From the kinds left on (a form's ticked boxes): every other kind is off,
    /// except the transactional ones, which stay on whatever is sent.
    ///
    /// # Errors
    /// An unknown kind.
    pub fn from_enabled<S: AsRef<str>>(in_app: &[S], email: &[S]) -> Result<Preferences, UnknownKind> {
        let parse = |names: &[S]| {
            names
                .iter()
                .map(|n| Kind::parse(n.as_ref()).ok_or_else(|| UnknownKind(n.as_ref().to_owned())))
                .collect::<Result<BTreeSet<Kind>, _>>()
        };
        let (on_app, on_email) = (parse(in_app)?, parse(email)?);
        let muted = |on: &BTreeSet<Kind>, applies: fn(Kind) -> bool| {
            Kind::ALL
                .into_iter()
                .filter(|k| applies(*k) && !k.transactional() && !on.contains(k))
                .collect()
        };
        Ok(Preferences {
            muted_in_app: muted(&on_app, |_| true),
            muted_email: muted(&on_email, Kind::emailed),
        })
    }

    /// Whether `kind` reaches the user by `channel`.
    pub fn allows(&self, kind: Kind, channel: Channel) -> bool {
        kind.transactional()
            || match channel {
                Channel::InApp => !self.muted_in_app.contains(&kind),
                Channel::Email => kind.emailed() && !self.muted_email.contains(&kind),
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoices_and_payment_problems_cannot_be_turned_off() {
        let none: [&str; 0] = [];
        let p = Preferences::from_enabled(&none, &none).unwrap();
        for k in Kind::ALL {
            assert_eq!(p.allows(k, Channel::InApp), k.transactional(), "{k:?} in the app");
            assert_eq!(p.allows(k, Channel::Email), k.transactional(), "{k:?} by e-mail");
        }
        assert!(p.allows(Kind::InvoiceIssued, Channel::Email));
        assert!(p.allows(Kind::PaymentFailed, Channel::InApp));
    }

    #[test]
    fn ticked_kinds_stay_on_and_unknown_ones_are_refused() {
        let p = Preferences::from_enabled(&["limit_warning", "trial_ending"], &["trial_ending"]).unwrap();
        assert!(p.allows(Kind::LimitWarning, Channel::InApp));
        assert!(!p.allows(Kind::LimitWarning, Channel::Email));
        assert!(p.allows(Kind::TrialEnding, Channel::Email));
        assert!(!p.allows(Kind::BillingCycleEnded, Channel::InApp));
        assert!(!p.allows(Kind::BillingCycleEnded, Channel::Email), "never e-mailed");
        assert_eq!(Preferences::from_enabled(&["nope"], &[]), Err(UnknownKind("nope".into())));
        assert!(Preferences::default().allows(Kind::LimitExceeded, Channel::InApp));
        assert_eq!(Kind::parse("payment_recovered"), Some(Kind::PaymentReceived));
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
    }
}

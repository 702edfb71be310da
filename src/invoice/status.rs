//! An invoice's status and the moves between them, as Stripe names them
//! (<https://docs.stripe.com/invoicing/overview#invoice-statuses>).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where an invoice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Being prepared; not yet sent, no number owed.
    Draft,
    /// Issued and awaiting payment.
    Open,
    /// Paid in full.
    Paid,
    /// Cancelled; nothing is owed.
    Void,
    /// Written off as not collectible; it can still be paid or voided.
    Uncollectible,
}

/// A status move that is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} invoice cannot become {to}")]
pub struct TransitionError {
    /// Current status name.
    pub from: &'static str,
    /// Requested status name.
    pub to: &'static str,
}

impl InvoiceStatus {
    /// Every status, in lifecycle order (for filters).
    pub const ALL: [InvoiceStatus; 5] = [
        InvoiceStatus::Draft,
        InvoiceStatus::Open,
        InvoiceStatus::Paid,
        InvoiceStatus::Void,
        InvoiceStatus::Uncollectible,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
            InvoiceStatus::Uncollectible => "uncollectible",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Checks a move: draft → open | void; open → paid | void | uncollectible;
    /// uncollectible → paid | void. Paid and void are final.
    ///
    /// # Errors
    /// [`TransitionError`] for any other move.
    pub fn transition(self, to: InvoiceStatus) -> Result<InvoiceStatus, TransitionError> {
        use InvoiceStatus::*;
        match (self, to) {
            (Draft, Open | Void)
            | (Open, Paid | Void | Uncollectible)
            | (Uncollectible, Paid | Void) => Ok(to),
            _ => Err(TransitionError {
                from: self.as_str(),
                to: to.as_str(),
            }),
        }
    }

    /// An open invoice past its due date (UTC) is overdue.
    pub fn is_overdue(self, due_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        self == InvoiceStatus::Open && due_at.is_some_and(|d| d < now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_lifecycle_moves_are_allowed() {
        use InvoiceStatus::*;
        let mut allowed = Vec::new();
        for from in InvoiceStatus::ALL {
            for to in InvoiceStatus::ALL {
                if from.transition(to).is_ok() {
                    allowed.push((from, to));
                }
            }
        }
        assert_eq!(
            allowed,
            vec![
                (Draft, Open),
                (Draft, Void),
                (Open, Paid),
                (Open, Void),
                (Open, Uncollectible),
                (Uncollectible, Paid),
                (Uncollectible, Void)
            ]
        );
        assert_eq!(
            Paid.transition(Void).unwrap_err().to_string(),
            "a paid invoice cannot become void"
        );
    }

    #[test]
    fn overdue_is_open_past_due() {
        let now: DateTime<Utc> = "2026-11-22T00:00:00Z".parse().expect("test timestamp");
        let yesterday = now - chrono::Duration::days(1);
        assert!(InvoiceStatus::Open.is_overdue(Some(yesterday), now));
        assert!(!InvoiceStatus::Paid.is_overdue(Some(yesterday), now));
        assert!(!InvoiceStatus::Open.is_overdue(Some(now + chrono::Duration::days(1)), now));
        assert!(!InvoiceStatus::Open.is_overdue(None, now));
    }
}

//! The paywall (seed 000 phase 7, PRODUCT.md "Surfaces"): who may see the customer
//! pages, and what they are shown instead.

use crate::subscription::Status;
use serde::{Deserialize, Serialize};

/// What a request for a protected page gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    /// Not signed in: go to `/login?next=<path>`.
    SignIn,
    /// Signed in without a live subscription: go to `/pricing`.
    ChoosePlan,
    /// Subscription past due, unpaid or incomplete: show the renewal prompt.
    Renew,
    /// Usage over a hard limit: show the upgrade prompt (the page still renders).
    Upgrade,
    /// Nothing in the way.
    Granted,
}

/// Decides access from the facts, in the seed's order: sign-in, then subscription,
/// then usage.
pub fn paywall(signed_in: bool, subscription: Option<Status>, hard_blocked: bool) -> Access {
    match (signed_in, subscription) {
        (false, _) => Access::SignIn,
        (true, None) | (true, Some(Status::Canceled)) => Access::ChoosePlan,
        (true, Some(s)) if !s.entitles() => Access::Renew,
        _ if hard_blocked => Access::Upgrade,
        _ => Access::Granted,
    }
}

/// The log-in address that returns to `path` afterwards.
pub fn login_url(path: &str) -> String {
    format!("/login?next={}", encode_component(path))
}

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_order_holds() {
        assert_eq!(paywall(false, Some(Status::Active), true), Access::SignIn);
        assert_eq!(paywall(true, None, false), Access::ChoosePlan);
        assert_eq!(
            paywall(true, Some(Status::Canceled), false),
            Access::ChoosePlan
        );
        assert_eq!(paywall(true, Some(Status::PastDue), true), Access::Renew);
        assert_eq!(paywall(true, Some(Status::Trialing), true), Access::Upgrade);
        assert_eq!(paywall(true, Some(Status::Active), false), Access::Granted);
    }

    #[test]
    fn login_url_encodes_next() {
        assert_eq!(login_url("/dashboard"), "/login?next=%2Fdashboard");
        assert_eq!(login_url("/a b?x=1&y"), "/login?next=%2Fa%20b%3Fx%3D1%26y");
    }
}

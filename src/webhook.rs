//! Outgoing webhooks (issue 14; API.md `/api/v1/webhook_endpoints`): the event
//! types Tollgate sends, which addresses it may send them to, and when it retries.
//! Deliveries are signed per the Standard Webhooks specification
//! (<https://www.standardwebhooks.com/>, [`crate::service::webhooks::signing`]).

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// What happened. The names are the `type` of a delivery's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    /// A catalog threshold (such as 80 %) of a meter's limit reached, once per
    /// account, meter, period and threshold.
    #[serde(rename = "usage.threshold_reached")]
    UsageThresholdReached,
    /// A meter's usage reached its limit (100 %), once per period.
    #[serde(rename = "usage.limit_reached")]
    UsageLimitReached,
    /// A meter's usage went past its limit (soft limits and overage), once per period.
    #[serde(rename = "usage.limit_exceeded")]
    UsageLimitExceeded,
    /// A subscription started (trial or paid).
    #[serde(rename = "subscription.created")]
    SubscriptionCreated,
    /// Plan, seats, status, schedule or cancellation changed.
    #[serde(rename = "subscription.updated")]
    SubscriptionUpdated,
    /// The subscription ended.
    #[serde(rename = "subscription.canceled")]
    SubscriptionCanceled,
    /// The trial ends in 3 days.
    #[serde(rename = "subscription.trial_will_end")]
    SubscriptionTrialWillEnd,
    /// An invoice was issued (open, amount due).
    #[serde(rename = "invoice.issued")]
    InvoiceIssued,
    /// An invoice was paid.
    #[serde(rename = "invoice.paid")]
    InvoicePaid,
    /// An open invoice passed its due date unpaid.
    #[serde(rename = "invoice.overdue")]
    InvoiceOverdue,
    /// An invoice was voided.
    #[serde(rename = "invoice.voided")]
    InvoiceVoided,
    /// A payment failed (Stripe); the subscription is past due.
    #[serde(rename = "payment.failed")]
    PaymentFailed,
    /// Someone joined the account.
    #[serde(rename = "member.added")]
    MemberAdded,
    /// Someone left the account or was removed.
    #[serde(rename = "member.removed")]
    MemberRemoved,
    /// A billing period ended, with its usage summary.
    #[serde(rename = "billing_cycle.ended")]
    BillingCycleEnded,
}

impl EventType {
    /// Every type, in documentation order.
    pub const ALL: [EventType; 15] = [
        EventType::UsageThresholdReached,
        EventType::UsageLimitReached,
        EventType::UsageLimitExceeded,
        EventType::SubscriptionCreated,
        EventType::SubscriptionUpdated,
        EventType::SubscriptionCanceled,
        EventType::SubscriptionTrialWillEnd,
        EventType::InvoiceIssued,
        EventType::InvoicePaid,
        EventType::InvoiceOverdue,
        EventType::InvoiceVoided,
        EventType::PaymentFailed,
        EventType::MemberAdded,
        EventType::MemberRemoved,
        EventType::BillingCycleEnded,
    ];

    /// The name (`invoice.paid`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UsageThresholdReached => "usage.threshold_reached",
            EventType::UsageLimitReached => "usage.limit_reached",
            EventType::UsageLimitExceeded => "usage.limit_exceeded",
            EventType::SubscriptionCreated => "subscription.created",
            EventType::SubscriptionUpdated => "subscription.updated",
            EventType::SubscriptionCanceled => "subscription.canceled",
            EventType::SubscriptionTrialWillEnd => "subscription.trial_will_end",
            EventType::InvoiceIssued => "invoice.issued",
            EventType::InvoicePaid => "invoice.paid",
            EventType::InvoiceOverdue => "invoice.overdue",
            EventType::InvoiceVoided => "invoice.voided",
            EventType::PaymentFailed => "payment.failed",
            EventType::MemberAdded => "member.added",
            EventType::MemberRemoved => "member.removed",
            EventType::BillingCycleEnded => "billing_cycle.ended",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// One line for forms and the documentation.
    pub fn description(self) -> &'static str {
        match self {
            EventType::UsageThresholdReached => "A usage threshold of a meter's limit was reached (once per period)",
            EventType::UsageLimitReached => "A meter reached its limit (once per period)",
            EventType::UsageLimitExceeded => "A meter went past its limit (once per period)",
            EventType::SubscriptionCreated => "A subscription started",
            EventType::SubscriptionUpdated => "A subscription's plan, seats, status or schedule changed",
            EventType::SubscriptionCanceled => "A subscription ended",
            EventType::SubscriptionTrialWillEnd => "A trial ends in 3 days",
            EventType::InvoiceIssued => "An invoice was issued",
            EventType::InvoicePaid => "An invoice was paid",
            EventType::InvoiceOverdue => "An invoice passed its due date unpaid",
            EventType::InvoiceVoided => "An invoice was voided",
            EventType::PaymentFailed => "A payment failed",
            EventType::MemberAdded => "A member joined",
            EventType::MemberRemoved => "A member left or was removed",
            EventType::BillingCycleEnded => "A billing period ended",
        }
    }
}

/// Why a list of event types was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type `{0}`")]
pub struct UnknownEventType(pub String);

/// Parses the event types an endpoint wants: sorted, without repeats; empty means
/// every type.
///
/// # Errors
/// The first unknown name.
pub fn parse_event_types<S: AsRef<str>>(names: &[S]) -> Result<Vec<EventType>, UnknownEventType> {
    let mut types = names
        .iter()
        .map(|n| EventType::parse(n.as_ref().trim()).ok_or_else(|| UnknownEventType(n.as_ref().to_owned())))
        .collect::<Result<Vec<_>, _>>()?;
    types.sort();
    types.dedup();
    Ok(types)
}

/// The longest endpoint URL, in bytes.
pub const MAX_URL: usize = 2048;

/// How long a delivery is retried before it fails for good, and how long an
/// endpoint may fail every attempt before it is disabled (issue 14: 3 days).
pub const RETRY_WINDOW: Duration = Duration::from_secs(3 * 24 * 3600);

/// How long the previous secret still signs after a rotation, by default (24 h,
/// as Svix and Stripe allow).
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

/// The wait after failed attempt number `attempt` (1 for the first): 30 s
/// doubled after each failure, at most 6 hours. Attempts go on until
/// [`RETRY_WINDOW`] has passed since the event (22 attempts).
pub fn backoff(attempt: u32) -> Duration {
    const BASE: Duration = Duration::from_secs(30);
    const MAX: Duration = Duration::from_secs(6 * 3600);
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
    BASE.saturating_mul(factor).min(MAX)
}

/// Whether `ip` is an address on the public internet: not loopback, private,
/// link-local, shared (CGNAT), multicast, documentation, benchmarking or reserved
/// (IANA's special-purpose registries, RFC 6890), looking through IPv4-mapped,
/// -compatible and NAT64 IPv6 addresses. Deliveries go only to public addresses
/// unless the operator allows private ones (`webhook_allow_private_targets`).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                  // "this network"
        || a == 10                            // private
        || a == 127                           // loopback
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254)             // link-local (cloud metadata)
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)     // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)     // documentation
        || (a == 192 && b == 88 && c == 99)   // 6to4 relay anycast
        || (a == 192 && b == 168)             // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)  // documentation
        || (a == 203 && b == 0 && c == 113)   // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96).
    if (s[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_unspecified() && !ip.is_loopback())
        || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
    {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return is_public_v4(v4);
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments (Teredo, ORCHID, …)
        || s[0] == 0x0100 && s[1..4] == [0, 0, 0] // discard-only
        || s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 0x0001 // local-use NAT64 (RFC 8215)
        || s[0] == 0x2002) // 6to4: may wrap any IPv4 address
}

/// Why an endpoint URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    /// Not an absolute `http` or `https` URL, or too long.
    #[error("must be an absolute http:// or https:// URL of at most 2048 characters")]
    Malformed,
    /// User name or password in the URL.
    #[error("must not carry a user name or password")]
    Credentials,
    /// A private, loopback or otherwise non-public address (or `localhost`).
    #[error("must not point to a private, loopback or link-local address")]
    Private,
}

/// An endpoint URL as accepted: absolute `http`/`https`, no credentials, and, unless
/// private targets are allowed, no IP literal or `localhost` name that is not
/// public. Names are checked again at each delivery, on every address they resolve
/// to (a name may move).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(url::Url);

impl EndpointUrl {
    /// Parses `s` (surrounding spaces ignored).
    ///
    /// # Errors
    /// [`UrlRefused`].
    pub fn parse(s: &str, allow_private: bool) -> Result<Self, UrlRefused> {
        let s = s.trim();
        if s.len() > MAX_URL {
            return Err(UrlRefused::Malformed);
        }
        let url = url::Url::parse(s).map_err(|_| UrlRefused::Malformed)?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(UrlRefused::Malformed);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlRefused::Credentials);
        }
        if !allow_private {
            let public = match url.host() {
                Some(url::Host::Ipv4(ip)) => is_public_v4(ip),
                Some(url::Host::Ipv6(ip)) => is_public_v6(ip),
                Some(url::Host::Domain(d)) => {
                    let d = d.trim_end_matches('.').to_ascii_lowercase();
                    !(d == "localhost" || d.ends_with(".localhost") || d.ends_with(".internal") || d.ends_with(".local"))
                }
                None => false,
            };
            if !public {
                return Err(UrlRefused::Private);
            }
        }
        Ok(EndpointUrl(url))
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The URL.
    pub fn url(&self) -> &url::Url {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().expect("test address"))
    }

    #[test]
    fn private_loopback_link_local_and_reserved_addresses_are_not_public() {
        for ip in [
            "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
            "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.1",
            "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
            "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1", "::10.0.0.1", "2001:db8::1", "2002:7f00:1::",
        ] {
            assert!(!public(ip), "{ip} must not be public");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(public(ip), "{ip} is public");
        }
    }

    #[test]
    fn urls_are_refused_for_private_targets_credentials_and_other_schemes() {
        let ok = |s: &str| EndpointUrl::parse(s, false);
        assert_eq!(ok("https://hooks.example.com/tollgate?x=1").map(|u| u.as_str().to_owned()), Ok("https://hooks.example.com/tollgate?x=1".into()));
        assert_eq!(ok("http://127.0.0.1:9000/"), Err(UrlRefused::Private));
        assert_eq!(ok("http://[::1]/"), Err(UrlRefused::Private));
        assert_eq!(ok("http://localhost:8080/"), Err(UrlRefused::Private));
        assert_eq!(ok("http://metadata.google.internal/"), Err(UrlRefused::Private));
        assert_eq!(ok("http://169.254.169.254/latest/meta-data"), Err(UrlRefused::Private));
        assert_eq!(ok("http://0x7f.1/"), Err(UrlRefused::Private), "the URL parser reads hex IPv4 literals");
        assert_eq!(ok("https://user:pw@example.com/"), Err(UrlRefused::Credentials));
        assert_eq!(ok("ftp://example.com/"), Err(UrlRefused::Malformed));
        assert_eq!(ok("/relative"), Err(UrlRefused::Malformed));
        assert_eq!(ok(&format!("https://example.com/{}", "a".repeat(2100))), Err(UrlRefused::Malformed));
        assert!(EndpointUrl::parse("http://127.0.0.1:9000/hook", true).is_ok());
    }

    #[test]
    fn event_types_parse_sorted_without_repeats() {
        assert_eq!(parse_event_types(&["invoice.paid", "usage.limit_reached", "invoice.paid"]), Ok(vec![EventType::UsageLimitReached, EventType::InvoicePaid]));
        assert_eq!(parse_event_types(&["invoice.nope"]), Err(UnknownEventType("invoice.nope".into())));
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).ok(), Some(serde_json::Value::from(t.as_str())));
        }
    }

    #[test]
    fn retries_double_to_six_hours_and_last_three_days() {
        let secs: Vec<u64> = (1..=12).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]);
        let mut waited = Duration::ZERO;
        let mut attempts = 1;
        while waited < RETRY_WINDOW {
            waited += backoff(attempts);
            attempts += 1;
        }
        assert_eq!(attempts, 22, "attempts within the 3-day window");
    }
}

//! Rate limits in front of the public forms that cost a password hash or send an
//! e-mail (issue 12, "anonymous outage" and "invitation relay"): log-in, sign-up,
//! password reset, invitation sign-up, forgot-password and invitations. Each
//! class of form is limited per client address, per address and e-mail, and in
//! total, with governor's GCRA limiters. A refused request answers 429 with
//! `Retry-After` before its body is parsed by the form's server function, so it
//! costs no hash, no e-mail and no database connection.
//!
//! The client address is the connection's peer. Behind a reverse proxy every
//! client shares the proxy's address; run Tollgate's listener for end users
//! directly, or keep the proxy's own per-client limits.

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// The largest form body read to find the e-mail (the forms are a few fields).
const MAX_FORM_BYTES: usize = 16 * 1024;

/// One class of guarded forms and its three limits.
struct Class {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_ip_email: DefaultKeyedRateLimiter<(IpAddr, String)>,
    total: DefaultDirectRateLimiter,
}

impl Class {
    fn new(per_ip_per_minute: u32, per_email_per_minute: u32, total_per_second: u32) -> Self {
        let n = |v: u32| NonZeroU32::new(v.max(1)).unwrap_or(NonZeroU32::MIN);
        Class {
            per_ip: RateLimiter::keyed(Quota::per_minute(n(per_ip_per_minute))),
            per_ip_email: RateLimiter::keyed(Quota::per_minute(n(per_email_per_minute))),
            total: RateLimiter::direct(Quota::per_second(n(total_per_second))),
        }
    }

    /// `None` when the request may go ahead, else how long to wait.
    fn check(&self, ip: IpAddr, email: Option<String>) -> Option<Duration> {
        let now = DefaultClock::default().now();
        let wait = |r: Result<(), governor::NotUntil<_>>| r.err().map(|n| n.wait_time_from(now));
        wait(self.per_ip.check_key(&ip))
            .or_else(|| email.and_then(|e| wait(self.per_ip_email.check_key(&(ip, e)))))
            .or_else(|| wait(self.total.check()))
    }
}

/// The limits of every guarded form, shared by the whole process.
pub struct Limits {
    /// Forms that hash a password.
    credentials: Class,
    /// Forms that send an e-mail to an address typed in.
    mail: Class,
}

impl Limits {
    /// `n` posts per client address and minute for each class (10 by default:
    /// `auth_attempts_per_minute`); per address and e-mail, half of `n` for the
    /// credential forms and three tenths for the mail forms (5 and 3 at the
    /// default); in total, per second, twice `n` for the credential forms (20 at
    /// the default: more than the hashing slots take) and half of `n` for the mail
    /// forms (5).
    pub fn new(n: u32) -> Self {
        Limits {
            credentials: Class::new(n, n / 2, n.saturating_mul(2)),
            mail: Class::new(n, n * 3 / 10, n / 2),
        }
    }

    /// The class guarding `path`, if any.
    fn class(&self, path: &str) -> Option<&Class> {
        match path.strip_prefix("/_fn/")? {
            "log_in" | "sign_up" | "reset_password" | "invitation_sign_up" => {
                Some(&self.credentials)
            }
            "forgot_password" | "org_invite" | "org_invitation_resend" => Some(&self.mail),
            _ => None,
        }
    }

    /// Forgets the keys whose limits have fully recovered (keeps memory bounded
    /// under a flood of addresses); run every minute.
    pub fn prune(&self) {
        for class in [&self.credentials, &self.mail] {
            class.per_ip.retain_recent();
            class.per_ip_email.retain_recent();
            class.per_ip.shrink_to_fit();
            class.per_ip_email.shrink_to_fit();
        }
    }
}

/// Starts the minute-by-minute pruning of `limits` (and of the widgets' limits,
/// [`crate::embed::prune`]).
pub fn spawn_pruning(limits: Arc<Limits>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.prune();
            crate::embed::prune();
        }
    });
}

/// The middleware: POSTs to a guarded form pass their class's limits or get 429.
pub async fn guard(State(limits): State<Arc<Limits>>, req: Request, next: Next) -> Response {
    let Some(class) = (req.method() == Method::POST)
        .then(|| limits.class(req.uri().path()))
        .flatten()
    else {
        return next.run(req).await;
    };
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response();
    };
    let email = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v.trim().to_lowercase());
    if let Some(wait) = class.check(ip, email) {
        let secs = wait.as_secs().max(1);
        tracing::info!(path = parts.uri.path(), %ip, retry_after = secs, "rate limited");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, secs.to_string())],
            format!("Too many attempts from your address. Try again in {secs} seconds."),
        )
            .into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_holds_on_its_own_key() {
        let class = Class::new(3, 2, 1000);
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let mail = |s: &str| Some(s.to_string());
        assert!(class.check(a, mail("x@t.example")).is_none());
        assert!(class.check(a, mail("x@t.example")).is_none());
        assert!(
            class.check(a, mail("x@t.example")).is_some(),
            "per address and e-mail"
        );
        assert!(
            class.check(a, mail("y@t.example")).is_some(),
            "the address's third try of the minute was spent above"
        );
        assert!(
            class.check(b, mail("x@t.example")).is_none(),
            "another address is not slowed"
        );
        let total = Class::new(100, 100, 2);
        assert!(total.check(a, None).is_none() && total.check(b, None).is_none());
        assert!(
            total.check(IpAddr::from([10, 0, 0, 3]), None).is_some(),
            "the total holds across addresses"
        );
    }
}

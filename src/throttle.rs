//! Back-off for failed log-ins (issue 12, "anonymous outage"): a few free failures
//! per e-mail, then a wait after each failure that doubles, capped, instead of a
//! lock-out that also shuts the real owner out for a whole window. Guessing from
//! many addresses is slowed further by the per-address limits in front of log-in
//! (the server's rate limits). OWASP's Authentication Cheat Sheet, "Account
//! Lockout" and "Login Throttling", recommends this shape.

use chrono::Duration;

/// Failed log-ins per e-mail within [`WINDOW_SECS`] that need no wait.
pub const FREE_FAILURES: i64 = 5;
/// The window failures are counted in, in seconds.
pub const WINDOW_SECS: i64 = 15 * 60;
/// The longest wait after a failure, in seconds.
pub const MAX_WAIT_SECS: i64 = 60;

/// How long the next attempt must still wait, given `failures` failed attempts for
/// the e-mail within [`WINDOW_SECS`] and the time `since_last` since the latest:
/// nothing while fewer than [`FREE_FAILURES`], then 2 s after the fifth failure,
/// 4 s after the sixth, doubling up to [`MAX_WAIT_SECS`]. `None`: it may go ahead.
pub fn login_wait(failures: i64, since_last: Duration) -> Option<Duration> {
    if failures < FREE_FAILURES {
        return None;
    }
    let doublings = u32::try_from(failures - FREE_FAILURES + 1)
        .unwrap_or(u32::MAX)
        .min(6);
    let wait = Duration::seconds((1_i64 << doublings).min(MAX_WAIT_SECS));
    (since_last < wait).then(|| wait - since_last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_failures_then_a_doubling_capped_wait() {
        let s = Duration::seconds;
        assert_eq!(login_wait(4, s(0)), None);
        assert_eq!(login_wait(5, s(0)), Some(s(2)));
        assert_eq!(
            login_wait(5, s(2)),
            None,
            "the owner waits seconds, not a window"
        );
        assert_eq!(login_wait(6, s(1)), Some(s(3)));
        assert_eq!(login_wait(9, s(0)), Some(s(32)));
        assert_eq!(login_wait(10, s(0)), Some(s(60)), "capped");
        assert_eq!(login_wait(500, s(59)), Some(s(1)));
        assert_eq!(login_wait(500, s(60)), None);
    }
}

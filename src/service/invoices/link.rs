//! Signed, expiring links to an invoice's PDF for e-mails (issue 14: "its PDF
//! link (a signed, expiring link…)"): `/invoices/{id}/pdf?token=<expiry>.<mac>`
//! opens the PDF without signing in until the expiry. The MAC is HMAC-SHA256
//! under the server's signing key ([`super::super::embed::key`], shared by every
//! process), over a text of its own (`invoice-pdf:{id}:{expiry}`), so no embed
//! token can pass for a link or the reverse.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// How long an e-mailed link opens the PDF (30 days).
pub const TTL_DAYS: i64 = 30;

fn mac(key: &[u8], invoice: Uuid, expires: i64) -> Hmac<Sha256> {
    // HMAC takes keys of any length: this cannot fail.
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    m.update(format!("invoice-pdf:{invoice}:{expires}").as_bytes());
    m
}

/// The token for `invoice`, valid until `now` + [`TTL_DAYS`].
pub fn token(key: &[u8], invoice: Uuid, now: DateTime<Utc>) -> String {
    let expires = (now + Duration::days(TTL_DAYS)).timestamp();
    format!("{expires}.{}", URL_SAFE_NO_PAD.encode(mac(key, invoice, expires).finalize().into_bytes()))
}

/// Whether `token` opens `invoice` at `now` (constant-time comparison).
pub fn verify(key: &[u8], invoice: Uuid, token: &str, now: DateTime<Utc>) -> bool {
    let Some((expires, sig)) = token.split_once('.') else {
        return false;
    };
    let (Ok(expires), Ok(sig)) = (expires.parse::<i64>(), URL_SAFE_NO_PAD.decode(sig)) else {
        return false;
    };
    expires > now.timestamp() && mac(key, invoice, expires).verify_slice(&sig).is_ok()
}

/// The whole link, under the portal's `public_url`.
pub fn url(public_url: &str, key: &[u8], invoice: Uuid, now: DateTime<Utc>) -> String {
    format!("{public_url}/invoices/{invoice}/pdf?token={}", token(key, invoice, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_its_invoice_until_it_expires_and_no_other() {
        let key = [3u8; 32];
        let now = Utc::now();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let t = token(&key, a, now);
        assert!(verify(&key, a, &t, now + Duration::days(TTL_DAYS - 1)));
        assert!(!verify(&key, a, &t, now + Duration::days(TTL_DAYS) + Duration::seconds(1)));
        assert!(!verify(&key, b, &t, now));
        assert!(!verify(&[4u8; 32], a, &t, now));
        let (_, sig) = t.split_once('.').unwrap();
        let later = (now + Duration::days(365)).timestamp();
        assert!(!verify(&key, a, &format!("{later}.{sig}"), now), "the expiry cannot be extended");
        for junk in ["", ".", "x.y", "1.", &format!("{later}")] {
            assert!(!verify(&key, a, junk, now), "{junk}");
        }
    }
}

//! Embed tokens (API.md `POST /api/v1/embed_tokens`; [`crate::embed`]): signed
//! with HMAC-SHA256 under a key kept in the database, so that every server
//! process verifies what any of them issued without a lookup per request.
//!
//! A token is `tg_et_<claims>.<mac>`, both parts URL-safe base64 without padding:
//! the claims as JSON, and the MAC of the text before the dot. Nothing in it is
//! secret (the account id, the widgets, the origin, the expiry); it cannot be
//! altered or extended.

use super::keys::Caller;
use super::{accounts, Error, Tollgate};
use crate::db;
use crate::embed::{Claims, Widget, TTL_SECONDS};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Every token starts so.
pub const PREFIX: &str = "tg_et_";

/// Longest token accepted, in bytes (the claims of a 253-character origin fit
/// well within).
pub const MAX_TOKEN: usize = 1024;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not a token, or altered.
    Invalid,
    /// Past its expiry.
    Expired,
    /// Valid, but not for this widget.
    OtherWidget,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], text: &str) -> Vec<u8> {
    // HMAC takes keys of any length: this cannot fail.
    let mut m = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    m.update(text.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// `claims` signed with `key`.
pub fn sign(key: &[u8], claims: &Claims) -> String {
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let text = format!("{PREFIX}{body}");
    let sig = URL_SAFE_NO_PAD.encode(mac(key, &text));
    format!("{text}.{sig}")
}

/// The claims of `token` if `key` signed it, it has not expired at `now` and it
/// opens `widget`.
///
/// # Errors
/// The [`Refused`] reason.
pub fn verify(key: &[u8], token: &str, widget: Widget, now: DateTime<Utc>) -> Result<Claims, Refused> {
    if token.len() > MAX_TOKEN {
        return Err(Refused::Invalid);
    }
    let (text, sig) = token.rsplit_once('.').ok_or(Refused::Invalid)?;
    let body = text.strip_prefix(PREFIX).ok_or(Refused::Invalid)?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| Refused::Invalid)?;
    let mut m = HmacSha256::new_from_slice(key).map_err(|_| Refused::Invalid)?;
    m.update(text.as_bytes());
    // Constant time.
    m.verify_slice(&sig).map_err(|_| Refused::Invalid)?;
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(Refused::Invalid)?;
    if claims.expires_at <= now.timestamp() {
        return Err(Refused::Expired);
    }
    if !claims.allows(widget) {
        return Err(Refused::OtherWidget);
    }
    Ok(claims)
}

/// The signing key: made by the first process that needs it, read from the
/// database once per process, then held.
///
/// # Errors
/// A database error (tried again on the next call).
pub async fn key(t: &Tollgate) -> Result<&[u8], Error> {
    let key = t
        .embed_key
        .get_or_try_init(|| async {
            let mut fresh = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut fresh);
            db::embed_keys::get_or_create(&t.pool, &fresh).await
        })
        .await?;
    Ok(key)
}

/// A token for `named` (an account the platform key names) to show `widgets`
/// framed by `origin`, which must be one of `allowed` (the operator's
/// `embed_origins`); it expires [`TTL_SECONDS`] after `now`.
///
/// # Errors
/// [`Error::Forbidden`] for an account key (platform keys only);
/// [`Error::Invalid`] for widgets or an origin that is not one (`widgets`,
/// `origin`) or an origin the operator does not allow (`origin`); the account's
/// errors ([`accounts::resolve_for_caller`]).
pub async fn issue(
    t: &Tollgate,
    caller: &Caller,
    named: &str,
    widgets: &[String],
    origin: &str,
    allowed: &[String],
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), Error> {
    if !matches!(caller, Caller::Platform { .. }) {
        return Err(Error::Forbidden("only a platform key may issue embed tokens".into()));
    }
    let widgets = crate::embed::parse_widgets(widgets).map_err(|m| Error::invalid("widgets", m))?;
    let origin = crate::embed::parse_origin(origin).map_err(|m| Error::invalid("origin", m))?;
    if !allowed.contains(&origin) {
        return Err(Error::invalid(
            "origin",
            format!("{origin} may not frame Tollgate's widgets: the operator allows it with the embed_origins setting"),
        ));
    }
    let account_id = accounts::resolve_for_caller(&t.pool, caller, Some(named)).await?;
    let expires_at = now + chrono::Duration::seconds(TTL_SECONDS);
    let claims = Claims {
        account_id,
        widgets,
        origin,
        expires_at: expires_at.timestamp(),
    };
    Ok((sign(key(t).await?, &claims), expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn claims(expires_at: i64) -> Claims {
        Claims {
            account_id: Uuid::nil(),
            widgets: vec![Widget::Usage],
            origin: "https://app.example.com".into(),
            expires_at,
        }
    }

    #[test]
    fn a_token_verifies_until_it_expires_and_only_for_its_widgets() {
        let key = [7u8; 32];
        let now = Utc::now();
        let token = sign(&key, &claims(now.timestamp() + 60));
        assert!(token.starts_with(PREFIX));
        assert_eq!(verify(&key, &token, Widget::Usage, now), Ok(claims(now.timestamp() + 60)));
        assert_eq!(verify(&key, &token, Widget::Pricing, now), Err(Refused::OtherWidget));
        let later = now + chrono::Duration::seconds(61);
        assert_eq!(verify(&key, &token, Widget::Usage, later), Err(Refused::Expired));
    }

    #[test]
    fn an_altered_or_foreign_token_is_refused() {
        let key = [7u8; 32];
        let now = Utc::now();
        let token = sign(&key, &claims(now.timestamp() + 60));
        assert_eq!(verify(&[8u8; 32], &token, Widget::Usage, now), Err(Refused::Invalid));
        // Another account or a later expiry under the same signature.
        let (_, sig) = token.rsplit_once('.').unwrap();
        let forged = sign(&[9u8; 32], &claims(now.timestamp() + 86_400));
        let (forged_text, _) = forged.rsplit_once('.').unwrap();
        assert_eq!(verify(&key, &format!("{forged_text}.{sig}"), Widget::Usage, now), Err(Refused::Invalid));
        for junk in ["", "tg_et_", "tg_et_.x", "abc.def", &"x".repeat(MAX_TOKEN + 1)] {
            assert_eq!(verify(&key, junk, Widget::Usage, now), Err(Refused::Invalid), "{junk}");
        }
    }
}

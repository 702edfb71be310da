//! Password reset for everyone: a random token sent by e-mail (only its SHA-256 is
//! stored), valid for [`VALID_MINUTES`], used at most once. Asking never tells
//! whether the e-mail has an account.

use super::{link_token, Actor, Error, Tollgate};
use crate::db::{self, users::UserRow};
use crate::identity::NewPassword;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// How long a link works, in minutes.
pub const VALID_MINUTES: i64 = 60;
/// Requests per e-mail allowed in [`REQUEST_WINDOW_SECS`] (known e-mails or not).
pub const MAX_REQUESTS: i64 = 3;
/// The window of [`MAX_REQUESTS`], in seconds.
pub const REQUEST_WINDOW_SECS: i64 = 15 * 60;

/// Creates a link for `user` and enqueues the `password_reset` e-mail
/// (`{"user": {"name", "email"}, "link", "expires_in_minutes"}`) in one
/// transaction. Audited as `user.password_reset_sent` with `actor` (a super admin
/// or, for the public form, the system).
///
/// # Errors
/// A database error.
pub async fn send(
    t: &Tollgate,
    user: &UserRow,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let token = link_token::new();
    let expires_at = now + Duration::minutes(VALID_MINUTES);
    let link = format!("{}/reset-password?token={token}", t.settings.public_url);
    let mut tx = t.pool.begin().await?;
    db::password_resets::insert(
        &mut *tx,
        Uuid::now_v7(),
        user.id,
        &link_token::hash(&token),
        actor.user_id(),
        expires_at,
    )
    .await?;
    let context = serde_json::json!({
        "user": { "name": user.name, "email": user.email },
        "link": link,
        "expires_in_minutes": VALID_MINUTES,
    });
    let account = db::accounts::personal_of(&mut *tx, user.id)
        .await?
        .map(|a| a.id);
    super::mail::enqueue(
        &mut *tx,
        &user.email,
        "password_reset",
        &context,
        None,
        account,
    )
    .await?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "user.password_reset_sent",
            target_kind: "user",
            target_id: user.id.to_string(),
            account_id: account,
            ip: None,
            details: serde_json::json!({ "email": user.email, "expires_at": expires_at }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The public "forgot password" form: sends a link when `email` belongs to an
/// enabled user, and otherwise does nothing; the answer is the same either way.
/// Every request counts toward the per-e-mail limit.
///
/// # Errors
/// [`Error::RateLimited`] after [`MAX_REQUESTS`] requests for the e-mail within
/// [`REQUEST_WINDOW_SECS`] (whether or not it has an account); database errors.
pub async fn request(t: &Tollgate, email: &str, now: DateTime<Utc>) -> Result<(), Error> {
    let email = email.trim().to_lowercase();
    if email.is_empty() || email.len() > 254 {
        return Err(Error::invalid("email", "Enter your e-mail address."));
    }
    let mut tx = t.pool.begin().await?;
    db::password_resets::lock_requests(&mut *tx, &email).await?;
    if db::password_resets::recent_requests(&mut *tx, &email, REQUEST_WINDOW_SECS).await?
        >= MAX_REQUESTS
    {
        return Err(Error::RateLimited {
            message: "Too many requests for this e-mail. Wait a few minutes and try again.".into(),
            retry_after: REQUEST_WINDOW_SECS as u64,
        });
    }
    db::password_resets::record_request(&mut *tx, &email).await?;
    let user = db::users::by_email(&mut *tx, &email).await?;
    tx.commit().await?;
    match user {
        Some(u) if u.disabled_at.is_none() => send(t, &u, &Actor::System, now).await,
        _ => Ok(()),
    }
}

/// Sets a new password with the link's `token`: the link and every other open link
/// of the user stop working, all the user's sessions end, the API keys they created
/// are revoked (the old password may have been stolen), the address counts as
/// verified, and it is audited as `user.password_reset`. Returns the user's id.
///
/// # Errors
/// [`Error::Invalid`] (field `token`) for an unknown, used or expired link, or a
/// disabled user; database errors.
pub async fn reset(
    t: &Tollgate,
    token: &str,
    password: &NewPassword,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let bad = || {
        Error::invalid(
            "token",
            "This reset link is invalid, used or expired. Ask for a new one.",
        )
    };
    let token = token.trim();
    if token.is_empty() || token.len() > 200 {
        return Err(bad());
    }
    let token_hash = link_token::hash(token);
    // The link is checked before the costly Argon2 hash, so a junk token costs one
    // indexed lookup; it is checked again under the row lock below.
    let usable = |r: &db::password_resets::ResetRow| r.used_at.is_none() && r.expires_at > now;
    db::password_resets::lock_by_hash(&t.pool, &token_hash)
        .await?
        .filter(usable)
        .ok_or_else(bad)?;
    let hash = super::auth::hash_password(password.expose()).await?;
    let mut tx = t.pool.begin().await?;
    let row = db::password_resets::lock_by_hash(&mut *tx, &token_hash)
        .await?
        .ok_or_else(bad)?;
    if row.used_at.is_some() || row.expires_at <= now {
        return Err(bad());
    }
    let user = db::users::by_id(&mut *tx, row.user_id)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .ok_or_else(bad)?;
    db::users::set_password_hash(&mut *tx, user.id, &hash).await?;
    let invalidated = db::password_resets::use_all_for_user(&mut *tx, user.id).await?;
    let ended = db::sessions::delete_for_user(&mut *tx, user.id).await?;
    // A reset may follow a stolen password: the keys made with it end too.
    let keys = db::api_keys::revoke_created_by(&mut *tx, user.id, None).await?;
    // The link reached the address: it is proved, as by a verification link (a
    // user who signed up and lost that link gets in this way).
    super::email_verification::mark_verified(&mut tx, &user, "password_reset").await?;
    let account = db::accounts::personal_of(&mut *tx, user.id)
        .await?
        .map(|a| a.id);
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor: &Actor::user(user.id),
            action: "user.password_reset",
            target_kind: "user",
            target_id: user.id.to_string(),
            account_id: account,
            ip: None,
            details: serde_json::json!({ "sessions_ended": ended, "links_closed": invalidated, "keys_revoked": keys }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(user.id)
}

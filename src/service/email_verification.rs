//! E-mail verification (issue 12): a user who signed up themselves proves their
//! address by opening a link sent to it (only its SHA-256 is stored, valid for
//! [`VALID_HOURS`], used at most once), which also logs them in. Until then they
//! can neither log in with their password, own API keys nor send invitations, so
//! that Tollgate neither relays mail for, nor hands keys to, an address nobody
//! proved, and sign-up does not tell who has an account ([`complete_sign_up`]). Users
//! created by the operator, and users who signed up through an invitation sent to
//! their address, are verified from the start; a password reset proves it too.

use super::{link_token, Actor, Error, Tollgate};
use crate::db::{self, users::UserRow};
use crate::period::Interval;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// The cookie naming the browser that signed up ([`SignUpLink::browser_hash`]):
/// set on `/verify-email` only, `SameSite=Lax` (a link opened from a mail client
/// is a cross-site navigation).
pub const SIGN_UP_COOKIE: &str = "tollgate_signup";

/// The `Set-Cookie` value of [`SIGN_UP_COOKIE`]: `value` for `max_age_secs`
/// seconds (an empty value and 0 clear it), `Secure` when `secure`.
pub fn sign_up_cookie(value: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{SIGN_UP_COOKIE}={value}; Path=/verify-email; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// How long a link works, in hours.
pub const VALID_HOURS: i64 = 48;
/// Links a user may be sent in [`SEND_WINDOW_SECS`].
pub const MAX_SENDS: i64 = 3;
/// The window of [`MAX_SENDS`], in seconds.
pub const SEND_WINDOW_SECS: i64 = 15 * 60;

/// Sends `user` a link proving their current address (the `email_verification`
/// e-mail: `{"user": {"name", "email"}, "link", "expires_in_hours"}`), in one
/// transaction with the link. Nothing is sent to a verified user. The link carries
/// where opening it continues ([`After`]); a sign-up's password and browser
/// ([`SignUpLink`]) are kept with it ([`verify`]).
///
/// # Errors
/// [`Error::RateLimited`] past [`MAX_SENDS`] links in [`SEND_WINDOW_SECS`];
/// database errors.
pub async fn send(
    t: &Tollgate,
    user: &UserRow,
    after: &After,
    sign_up: Option<&SignUpLink<'_>>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if user.verified_at.is_some() {
        return Ok(());
    }
    let mut tx = t.pool.begin().await?;
    // Parallel requests count one after another.
    db::users::lock(&mut *tx, user.id).await?;
    if db::email_verifications::sent_since(&mut *tx, user.id, SEND_WINDOW_SECS).await? >= MAX_SENDS
    {
        return Err(Error::RateLimited {
            message: "We sent you several links already. Wait a few minutes and try again.".into(),
            retry_after: SEND_WINDOW_SECS as u64,
        });
    }
    let token = link_token::new();
    let expires_at = now + Duration::hours(VALID_HOURS);
    db::email_verifications::insert(
        &mut *tx,
        &db::email_verifications::NewVerification {
            id: Uuid::now_v7(),
            user_id: user.id,
            email: &user.email,
            token_hash: &link_token::hash(&token),
            expires_at,
            password_hash: sign_up.map(|s| s.password_hash),
            browser_hash: sign_up.map(|s| s.browser_hash),
        },
    )
    .await?;
    let context = serde_json::json!({
        "user": { "name": user.name, "email": user.email },
        "link": link(&t.settings.public_url, &token, after),
        "expires_in_hours": VALID_HOURS,
    });
    let account = db::accounts::personal_of(&mut *tx, user.id)
        .await?
        .map(|a| a.id);
    super::mail::enqueue(
        &mut *tx,
        &user.email,
        "email_verification",
        &context,
        None,
        account,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether `key` is a plain catalog key (1 to 64 letters, digits, `-`, `_`), safe
/// in a link's query as it is.
pub fn plain_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// What a sign-up's link carries besides its token.
#[derive(Debug, Clone, Copy)]
pub struct SignUpLink<'a> {
    /// The argon2id hash of the sign-up's password: the user's once the link is
    /// used (an earlier sign-up with the same address cannot keep its own).
    pub password_hash: &'a str,
    /// SHA-256 of the random cookie the sign-up's answer set
    /// ([`link_token::hash`]): the link logs in only in that browser.
    pub browser_hash: &'a [u8],
}

/// Where opening a verification link continues (it logs its user in only in the
/// browser that signed up; see [`Verified::browser_hash`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    /// The API keys page (a link asked for there).
    ApiKeys,
    /// The pricing page (a sign-up without a plan).
    Pricing,
    /// The pricing page with the plan chosen at sign-up marked, to start it: a
    /// catalog key, which the link carries only when it is [`plain_key`].
    Plan(String, Interval),
}

/// The link of `token`, continuing to `after`.
fn link(public_url: &str, token: &str, after: &After) -> String {
    let base = format!("{public_url}/verify-email?token={token}");
    match after {
        After::ApiKeys => base,
        After::Plan(key, interval) if plain_key(key) => {
            format!("{base}&plan={key}&interval={}", interval.as_str())
        }
        After::Plan(..) | After::Pricing => format!("{base}&then=pricing"),
    }
}

/// Carries out a visitor's sign-up after they were answered (issue 12: its time
/// and outcome must not show in the answer), the same way whether the address
/// was new or taken:
/// - a new address gets an unverified user and a verification link;
/// - an address whose user has not verified it yet (someone signed up with it
///   before) gets a fresh link;
/// - a verified address gets a notice of the attempt ([`send_sign_up_attempt`]).
///
/// Each link carries this sign-up's password, which becomes the user's when the
/// link is opened: whoever signed up first with another person's address cannot
/// keep a password the owner never chose (account pre-hijacking).
///
/// # Errors
/// [`Error::RateLimited`] past [`MAX_SENDS`] links; database errors.
pub async fn complete_sign_up(
    t: &Tollgate,
    request: &super::auth::SignUpRequest,
    browser_hash: &[u8],
    after: &After,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let link = SignUpLink {
        password_hash: &request.password_hash,
        browser_hash,
    };
    let user = match db::users::by_email(&t.pool, request.email.as_str()).await? {
        Some(user) => user,
        None => {
            match super::auth::insert_user(
                &t.pool,
                &request.email,
                &request.name,
                &request.password_hash,
                false,
                None,
            )
            .await
            {
                // Created, or signed up by a parallel request meanwhile (then
                // handled as taken): either way the address has its user now.
                Ok(_) => {}
                Err(Error::Invalid { field, .. }) if field == "email" => {}
                Err(e) => return Err(e),
            }
            let Some(user) = db::users::by_email(&t.pool, request.email.as_str()).await? else {
                return Ok(());
            };
            user
        }
    };
    if user.verified_at.is_none() {
        send(t, &user, after, Some(&link), now).await
    } else {
        send_sign_up_attempt(t, &user, now).await
    }
}

/// Tells the owner of `user`'s address that someone tried to sign up with it
/// (the `sign_up_attempt` e-mail: `{"user": {"name", "email"}, "login_link",
/// "reset_link"}`): the answer a visitor gets for a taken address, which looks
/// the same as a new sign-up's (issue 12, account enumeration). At most one such
/// e-mail per user and hour, so that nobody can flood an address through the
/// sign-up form.
///
/// # Errors
/// Database errors.
pub async fn send_sign_up_attempt(
    t: &Tollgate,
    user: &UserRow,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let context = serde_json::json!({
        "user": { "name": user.name, "email": user.email },
        "login_link": format!("{}/login", t.settings.public_url),
        "reset_link": format!("{}/forgot-password", t.settings.public_url),
    });
    let dedup = format!("sign_up_attempt:{}:{}", user.id, now.format("%Y%m%d%H"));
    let account = db::accounts::personal_of(&t.pool, user.id)
        .await?
        .map(|a| a.id);
    super::mail::enqueue(
        &t.pool,
        &user.email,
        "sign_up_attempt",
        &context,
        Some(&dedup),
        account,
    )
    .await?;
    Ok(())
}

/// A used link ([`verify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The user whose address it proved.
    pub user_id: Uuid,
    /// SHA-256 of the cookie of the browser that signed up, for a sign-up's link:
    /// the caller logs the user in only when the browser opening the link sends
    /// that cookie (else anyone could log someone into an account by sending
    /// them its link). `None` for a link that only proves the address.
    pub browser_hash: Option<Vec<u8>>,
}

/// Uses a link: the user's address is verified (audited as
/// `user.email_verified`), the password of the sign-up that sent the link (if
/// any) becomes theirs, and every open link of theirs stops working. Returns
/// the user and the sign-up browser's cookie hash ([`Verified`]). Using a link of an already verified user is not an error.
///
/// # Errors
/// [`Error::Invalid`] (field `token`) for an unknown, used or expired link, or one
/// for an address the user no longer has; database errors.
pub async fn verify(pool: &PgPool, token: &str, now: DateTime<Utc>) -> Result<Verified, Error> {
    let bad = || {
        Error::invalid(
            "token",
            "This link is invalid, used or expired. Sign up again with the same address for a new one, or reset your password.",
        )
    };
    if token.is_empty() || token.len() > 128 {
        return Err(bad());
    }
    let mut tx = pool.begin().await?;
    let link = db::email_verifications::lock_by_hash(&mut *tx, &link_token::hash(token))
        .await?
        .ok_or_else(bad)?;
    if link.used_at.is_some() || link.expires_at <= now {
        return Err(bad());
    }
    let user = db::users::by_id(&mut *tx, link.user_id)
        .await?
        .ok_or_else(bad)?;
    if user.email != link.email {
        return Err(bad());
    }
    db::email_verifications::use_all_for_user(&mut *tx, user.id).await?;
    // The password of the sign-up that sent this link (see `complete_sign_up`).
    if let Some(hash) = &link.password_hash {
        db::users::set_password_hash(&mut *tx, user.id, hash).await?;
    }
    if db::users::set_verified(&mut *tx, user.id).await? {
        record_verified(&mut tx, &user, "link").await?;
    }
    tx.commit().await?;
    Ok(Verified {
        user_id: user.id,
        browser_hash: link.browser_hash,
    })
}

/// Marks `user` verified because `how` proved the address (an invitation link,
/// the operator, a password reset), audited as `user.email_verified`, and closes
/// their open verification links. Nothing more happens to a user already
/// verified.
///
/// # Errors
/// A database error.
pub async fn mark_verified(tx: &mut db::Tx<'_>, user: &UserRow, how: &str) -> Result<(), Error> {
    // Open links would still log in (and set a sign-up's password): they end.
    db::email_verifications::use_all_for_user(&mut **tx, user.id).await?;
    if db::users::set_verified(&mut **tx, user.id).await? {
        record_verified(tx, user, how).await?;
    }
    Ok(())
}

async fn record_verified(tx: &mut db::Tx<'_>, user: &UserRow, how: &str) -> Result<(), Error> {
    db::audit::record(
        &mut **tx,
        &db::audit::Entry {
            actor: &Actor::user(user.id),
            action: "user.email_verified",
            target_kind: "user",
            target_id: user.id.to_string(),
            account_id: None,
            ip: None,
            details: serde_json::json!({ "email": user.email, "by": how }),
        },
    )
    .await?;
    Ok(())
}

/// Refuses `user` while their address is not verified: what owning a key or
/// sending an invitation needs.
///
/// # Errors
/// [`Error::Forbidden`] with [`UNVERIFIED`].
pub fn ensure_verified(user: &UserRow) -> Result<(), Error> {
    match user.verified_at {
        Some(_) => Ok(()),
        None => Err(Error::Forbidden(UNVERIFIED.into())),
    }
}

/// [`ensure_verified`] for an actor: actors that are not users (the operator's
/// CLI, the system) pass; a user is read first.
///
/// # Errors
/// [`Error::Forbidden`] for an unverified or unknown user; database errors.
pub async fn require_verified(pool: &PgPool, actor: &Actor) -> Result<(), Error> {
    let Some(user_id) = actor.user_id() else {
        return Ok(());
    };
    match db::users::by_id(pool, user_id).await? {
        Some(u) => ensure_verified(&u),
        None => Err(Error::Forbidden(UNVERIFIED.into())),
    }
}

/// What an unverified user is told.
pub const UNVERIFIED: &str = "Confirm your e-mail address first: open the link we sent you. You can send it again from your API keys page.";

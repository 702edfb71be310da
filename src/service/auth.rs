//! Sign-up and log-in. Passwords are hashed with argon2id (the `argon2` crate's
//! defaults: OWASP's 19 MiB, 2 passes); hashing runs on the blocking pool.

use super::{Actor, Error};
use crate::db::{self, users::UserRow};
use crate::identity::{Email, NewPassword, PersonName};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sqlx::PgPool;
use uuid::Uuid;

/// Failed log-ins per e-mail allowed in [`LOGIN_WINDOW_SECS`]; the next attempt is
/// refused as "too many attempts" (issue 2, point 5).
pub const MAX_LOGIN_FAILURES: i64 = 5;
/// The window of [`MAX_LOGIN_FAILURES`], in seconds.
pub const LOGIN_WINDOW_SECS: i64 = 60;

/// Hashes a password with argon2id and a random salt (PHC string format).
///
/// # Errors
/// [`Error::Internal`] if hashing fails (it does not for valid parameters).
pub async fn hash_password(password: &str) -> Result<String, Error> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// Checks a password against a stored hash; a malformed hash never matches.
async fn verify_password(hash: String, password: &str) -> Result<bool, Error> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))
}

/// A valid argon2id hash of a random password: verified against when the e-mail is
/// unknown, so that timing does not tell which e-mails have accounts.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3+9bF3gk8V2kq3sJ7Y3v2wzJYb0m6y4Zr1O5kZ0v3xA";

/// A new user and their personal account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The user.
    pub user_id: Uuid,
    /// Their personal account (on no plan yet).
    pub account_id: Uuid,
}

/// Creates a user with a personal account (on no plan) and audits it.
///
/// # Errors
/// [`Error::Conflict`] when the e-mail is taken (field `email`), or a database error.
pub async fn sign_up(
    pool: &PgPool,
    email: &Email,
    name: &PersonName,
    password: &NewPassword,
    super_admin: bool,
    actor: Option<&Actor>,
) -> Result<NewUser, Error> {
    let hash = hash_password(password.expose()).await?;
    let user_id = Uuid::now_v7();
    let account_id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    if let Err(e) = db::users::insert(&mut *tx, user_id, email.as_str(), name.as_str(), &hash, super_admin).await {
        return Err(if db::is_unique_violation(&e, "users_email_key") {
            Error::Invalid { field: "email".into(), message: "An account with this e-mail already exists. Log in instead.".into(), index: None }
        } else {
            e.into()
        });
    }
    db::accounts::insert_personal(&mut tx, account_id, user_id, name.as_str()).await?;
    let self_actor = Actor::user(user_id);
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor: actor.unwrap_or(&self_actor),
            action: if super_admin { "user.created_super_admin" } else { "user.signed_up" },
            target_kind: "user",
            target_id: user_id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: serde_json::json!({ "email": email.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(NewUser { user_id, account_id })
}

/// Why a log-in failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown e-mail or wrong password (one answer for both).
    #[error("The e-mail or password is not right.")]
    BadCredentials,
    /// Five failures in the last minute for this e-mail.
    #[error("Too many attempts. Wait a minute and try again.")]
    TooManyAttempts,
    /// The user was disabled by an operator.
    #[error("This account is disabled. Contact support.")]
    Disabled,
    /// Something else failed.
    #[error(transparent)]
    Service(#[from] Error),
}

impl From<sqlx::Error> for LoginError {
    fn from(e: sqlx::Error) -> Self {
        LoginError::Service(e.into())
    }
}

/// Checks credentials. After [`MAX_LOGIN_FAILURES`] failures for an e-mail within
/// [`LOGIN_WINDOW_SECS`], every attempt is refused until the window passes, right
/// password or not.
///
/// # Errors
/// See [`LoginError`].
pub async fn log_in(pool: &PgPool, email: &str, password: &str) -> Result<UserRow, LoginError> {
    let email = email.trim().to_lowercase();
    // Attempts for one e-mail run one at a time, so parallel guesses cannot all
    // read the count before any failure is recorded.
    let mut tx = pool.begin().await?;
    db::login_failures::lock(&mut *tx, &email).await?;
    if db::login_failures::recent(&mut *tx, &email, LOGIN_WINDOW_SECS).await? >= MAX_LOGIN_FAILURES {
        return Err(LoginError::TooManyAttempts);
    }
    let user = db::users::by_email(&mut *tx, &email).await?;
    let hash = user.as_ref().map_or(DUMMY_HASH.to_string(), |u| u.password_hash.clone());
    let ok = verify_password(hash, password).await?;
    let outcome = match user {
        Some(u) if ok && u.disabled_at.is_some() => Err(LoginError::Disabled),
        Some(u) if ok => {
            db::users::touch_last_login(&mut *tx, u.id).await?;
            Ok(u)
        }
        _ => {
            db::login_failures::record(&mut *tx, &email).await?;
            Err(LoginError::BadCredentials)
        }
    };
    tx.commit().await?;
    outcome
}

/// The signed-in user behind a session's user id, if still allowed in (a disabled
/// or deleted user's sessions stop working at once).
///
/// # Errors
/// A database error.
pub async fn session_user(pool: &PgPool, user_id: Uuid) -> Result<Option<UserRow>, Error> {
    Ok(db::users::by_id(pool, user_id).await?.filter(|u| u.disabled_at.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_the_dummy_hash_parses() {
        let h = hash_password("correct horse battery").await.expect("test fixture");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(h.clone(), "correct horse battery").await.expect("test fixture"));
        assert!(!verify_password(h, "wrong horse battery").await.expect("test fixture"));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok(), "the dummy hash must parse, or unknown e-mails answer faster");
        assert!(!verify_password(DUMMY_HASH.into(), "anything").await.expect("test fixture"));
    }
}

//! Sign-up and log-in. Passwords are hashed with argon2id (the `argon2` crate's
//! defaults: OWASP's 19 MiB, 2 passes) on the blocking pool, at most one hash per
//! CPU at a time ([`HASHING`]), and never while holding a database connection, so
//! that a flood of log-ins cannot starve the rest of the service (issue 12).

use super::{Actor, Error};
use crate::db::{self, users::UserRow};
use crate::identity::{Email, NewPassword, PersonName};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use sqlx::PgPool;
use uuid::Uuid;

/// Hashes running at once: one per CPU. More would only queue on the blocking
/// pool while holding memory (19 MiB each).
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    )
});

/// How long a log-in or sign-up waits for a free hashing slot before it is told to
/// come back.
const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A hashing slot, or [`Error::RateLimited`] when none frees up within [`HASH_WAIT`].
async fn hashing_slot() -> Result<tokio::sync::SemaphorePermit<'static>, Error> {
    match tokio::time::timeout(HASH_WAIT, HASHING.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(Error::RateLimited {
            message: "The server is busy checking passwords. Try again in a few seconds.".into(),
            retry_after: 5,
        }),
    }
}

/// Hashes a password with argon2id and a random salt (PHC string format), in a
/// hashing slot.
///
/// # Errors
/// [`Error::RateLimited`] when every slot stays busy; [`Error::Internal`] if
/// hashing fails (it does not for valid parameters).
pub async fn hash_password(password: &str) -> Result<String, Error> {
    let password = password.to_owned();
    let _slot = hashing_slot().await?;
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

/// Checks a password against a stored hash, in a hashing slot; a malformed hash
/// never matches.
async fn verify_password(hash: String, password: &str) -> Result<bool, Error> {
    let password = password.to_owned();
    let _slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
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

/// Creates a user with a personal account (on no plan) and audits it. With an
/// `actor` (the operator) or as a super admin the e-mail counts as verified;
/// otherwise the caller sends a verification link
/// ([`super::email_verification::send`]). For the operator and the CLI, who may be
/// told the e-mail is taken; a visitor signs up through [`register`].
///
/// # Errors
/// [`Error::Invalid`] when the e-mail is taken (field `email`, found before any
/// hashing), [`Error::RateLimited`] when hashing stays busy, or a database error.
pub async fn sign_up(
    pool: &PgPool,
    email: &Email,
    name: &PersonName,
    password: &NewPassword,
    super_admin: bool,
    actor: Option<&Actor>,
) -> Result<NewUser, Error> {
    if db::users::by_email(pool, email.as_str()).await?.is_some() {
        return Err(taken());
    }
    let hash = hash_password(password.expose()).await?;
    insert_user(pool, email, name, &hash, super_admin, actor).await
}

/// A visitor's sign-up with its password hashed ([`register`]), for
/// [`super::email_verification::complete_sign_up`] to carry out.
#[derive(Debug, Clone)]
pub struct SignUpRequest {
    /// The address given.
    pub email: Email,
    /// The name given.
    pub name: PersonName,
    /// The argon2id hash of the password given (PHC string).
    pub password_hash: String,
}

/// The part of a visitor's own sign-up that the visitor waits for: the password
/// hash, the same work whether or not the address has an account (issue 12,
/// "account enumeration at sign-up"). The rest (finding the address, creating
/// the user, the e-mail) is [`super::email_verification::complete_sign_up`],
/// which the caller runs after answering, so that its time does not tell either.
///
/// # Errors
/// [`Error::RateLimited`] when hashing stays busy.
pub async fn register(
    email: &Email,
    name: &PersonName,
    password: &NewPassword,
) -> Result<SignUpRequest, Error> {
    Ok(SignUpRequest {
        email: email.clone(),
        name: name.clone(),
        password_hash: hash_password(password.expose()).await?,
    })
}

fn taken() -> Error {
    Error::Invalid {
        field: "email".into(),
        message: "An account with this e-mail already exists. Log in instead.".into(),
        index: None,
    }
}

/// Inserts an unverified (or, with `actor` or as a super admin, verified) user
/// with their personal account, audited.
pub(super) async fn insert_user(
    pool: &PgPool,
    email: &Email,
    name: &PersonName,
    hash: &str,
    super_admin: bool,
    actor: Option<&Actor>,
) -> Result<NewUser, Error> {
    let user_id = Uuid::now_v7();
    let account_id = Uuid::now_v7();
    // Created by the operator (or a super admin's first account): the address is
    // taken on their word. A self sign-up proves it with a link
    // ([`super::email_verification`]).
    let verified = actor.is_some() || super_admin;
    let mut tx = pool.begin().await?;
    if let Err(e) = db::users::insert(
        &mut *tx,
        user_id,
        email.as_str(),
        name.as_str(),
        hash,
        super_admin,
        verified,
    )
    .await
    {
        return Err(if db::is_unique_violation(&e, "users_email_key") {
            taken()
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
            action: if super_admin {
                "user.created_super_admin"
            } else {
                "user.signed_up"
            },
            target_kind: "user",
            target_id: user_id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: serde_json::json!({ "email": email.as_str(), "verified": verified }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(NewUser {
        user_id,
        account_id,
    })
}

/// Why a log-in failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown e-mail or wrong password (one answer for both).
    #[error("The e-mail or password is not right. Signed up recently? Open the link we e-mailed you first.")]
    BadCredentials,
    /// Too many failures for this e-mail just now: wait ([`crate::throttle::login_wait`]).
    #[error("Too many attempts. Wait a few seconds and try again.")]
    TooManyAttempts,
    /// The user was disabled by an operator.
    #[error("This account is disabled. Contact support.")]
    Disabled,
    /// The right password of a user who signed up themselves but has not proved
    /// their address yet. Told apart from [`LoginError::BadCredentials`] only
    /// here: the answer is the same, and nothing else happens (else whoever signed
    /// up with someone else's address would learn from logging in that it had no
    /// account). Signing up again sends a fresh link.
    #[error("The e-mail or password is not right. Signed up recently? Open the link we e-mailed you first.")]
    Unconfirmed(Box<UserRow>),
    /// Something else failed.
    #[error(transparent)]
    Service(#[from] Error),
}

impl From<sqlx::Error> for LoginError {
    fn from(e: sqlx::Error) -> Self {
        LoginError::Service(e.into())
    }
}

/// Checks credentials, in three steps so that no database connection is held
/// while the password is hashed:
/// 1. under a per-e-mail lock, refuse while the e-mail's back-off runs
///    ([`crate::throttle::login_wait`]) and record this attempt as a failure up
///    front (so parallel guesses cannot all slip past the count);
/// 2. verify the password (against a dummy hash for an unknown e-mail, so timing
///    does not tell which e-mails have accounts);
/// 3. on the right password, take the failure back and note the log-in, unless
///    the user's address is unproved ([`LoginError::Unconfirmed`]).
///
/// # Errors
/// See [`LoginError`]; [`Error::RateLimited`] inside it when hashing stays busy.
pub async fn log_in(pool: &PgPool, email: &str, password: &str) -> Result<UserRow, LoginError> {
    use crate::throttle::{login_wait, WINDOW_SECS};
    let email = email.trim().to_lowercase();
    let (user, attempt) = {
        let mut tx = pool.begin().await?;
        db::login_failures::lock(&mut *tx, &email).await?;
        let (failures, last) = db::login_failures::recent(&mut *tx, &email, WINDOW_SECS).await?;
        let since_last = last.map_or(chrono::Duration::MAX, |at| chrono::Utc::now() - at);
        if login_wait(failures, since_last).is_some() {
            return Err(LoginError::TooManyAttempts);
        }
        let user = db::users::by_email(&mut *tx, &email).await?;
        let attempt = db::login_failures::record(&mut *tx, &email).await?;
        tx.commit().await?;
        (user, attempt)
    };
    let hash = user
        .as_ref()
        .map_or(DUMMY_HASH.to_string(), |u| u.password_hash.clone());
    let ok = match verify_password(hash, password).await {
        Ok(ok) => ok,
        Err(e) => {
            // Not a guess that was judged: it does not count against the owner.
            db::login_failures::forget(pool, &email, attempt).await?;
            return Err(e.into());
        }
    };
    match user {
        // Counted as a failure, like a wrong password.
        Some(u) if ok && u.verified_at.is_none() && u.disabled_at.is_none() => {
            Err(LoginError::Unconfirmed(Box::new(u)))
        }
        Some(u) if ok => {
            let mut tx = pool.begin().await?;
            db::login_failures::forget(&mut *tx, &email, attempt).await?;
            if u.disabled_at.is_some() {
                tx.commit().await?;
                return Err(LoginError::Disabled);
            }
            db::users::touch_last_login(&mut *tx, u.id).await?;
            tx.commit().await?;
            Ok(u)
        }
        _ => Err(LoginError::BadCredentials),
    }
}

/// The signed-in user behind a session's user id, if still allowed in (a disabled
/// or deleted user's sessions stop working at once).
///
/// # Errors
/// A database error.
pub async fn session_user(pool: &PgPool, user_id: Uuid) -> Result<Option<UserRow>, Error> {
    Ok(db::users::by_id(pool, user_id)
        .await?
        .filter(|u| u.disabled_at.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_the_dummy_hash_parses() {
        let h = hash_password("correct horse battery")
            .await
            .expect("test fixture");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(h.clone(), "correct horse battery")
            .await
            .expect("test fixture"));
        assert!(!verify_password(h, "wrong horse battery")
            .await
            .expect("test fixture"));
        assert!(
            PasswordHash::new(DUMMY_HASH).is_ok(),
            "the dummy hash must parse, or unknown e-mails answer faster"
        );
        assert!(!verify_password(DUMMY_HASH.into(), "anything")
            .await
            .expect("test fixture"));
    }
}

//! Server-side request context for server functions: the service handle, the
//! session, and the signed-in user.

use crate::error::AppError;
use axum::http::request::Parts;
use leptos::prelude::*;
use tollgate::db::{sessions::USER_ID_KEY, users::UserRow};
use tollgate::service::admin::impersonation::{self, Ending, Impersonation};
use tollgate::service::{auth, Actor, Tollgate};
use tower_sessions::Session;
use uuid::Uuid;

/// Session key of the account the pages act for.
pub const ACCOUNT_ID_KEY: &str = "account_id";
/// Session key of a running impersonation ([`Impersonation`]).
pub const IMPERSONATION_KEY: &str = "impersonation";

/// The service handle, provided by the server for every request.
///
/// # Errors
/// [`AppError::Server`] if the server did not provide it (a wiring bug).
pub fn tollgate() -> Result<Tollgate, AppError> {
    use_context::<Tollgate>()
        .ok_or_else(|| AppError::Server("The server is not set up correctly.".into()))
}

/// The request's session.
///
/// # Errors
/// [`AppError::Server`] if the session layer is missing.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer");
        AppError::Server("Sessions are not available.".into())
    })
}

/// A signed-in user and the account the pages act for.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The user.
    pub user: UserRow,
    /// The account (their personal account until they switch).
    pub account_id: Uuid,
    /// The super admin viewing as `user`, while an impersonation lasts. Everything
    /// done meanwhile is audited with both ids (see [`SignedIn::actor`]).
    pub impersonator: Option<Uuid>,
}

impl SignedIn {
    /// The audit log's actor: the user, and the impersonating super admin if any.
    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.user.id,
            impersonator: self.impersonator,
        }
    }
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    AppError::Server("Your session could not be read. Try again.".into())
}

/// The signed-in user, if any (see [`signed_in_with`]).
///
/// # Errors
/// Session or database failures.
pub async fn signed_in() -> Result<Option<SignedIn>, AppError> {
    signed_in_with(&tollgate()?, &session().await?).await
}

/// The user signed in on `session`, if any. A session whose user was disabled or
/// deleted counts as signed out. When the user no longer belongs to the account the
/// session acts for (removed from an organization), that one request is refused
/// with [`AppError::Forbidden`] and the session falls back to the user's personal
/// account for the next. While a super admin impersonates
/// someone, that user is returned with `impersonator` set (see
/// [`current_impersonation`]). Used by server functions and by the live stream.
///
/// # Errors
/// Session or database failures.
pub async fn signed_in_with(t: &Tollgate, session: &Session) -> Result<Option<SignedIn>, AppError> {
    resolve(t, session, true).await
}

/// The signed-in user for the navigation (who is signed in, the account switcher).
/// Unlike [`signed_in`] it never refuses: when the session still acts for an
/// organization that dropped the user, it answers for the personal account and
/// leaves the session alone, so the request for the page itself (which runs at the
/// same time) is the one refused and the navigation never goes blank.
///
/// # Errors
/// Session or database failures.
pub async fn signed_in_for_navigation() -> Result<Option<SignedIn>, AppError> {
    resolve(&tollgate()?, &session().await?, false).await
}

async fn resolve(
    t: &Tollgate,
    session: &Session,
    refuse_stale: bool,
) -> Result<Option<SignedIn>, AppError> {
    let Some(session_user) = session
        .get::<Uuid>(USER_ID_KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    let (user_id, impersonator) = match current_impersonation(t, session, session_user).await? {
        Some(imp) => (imp.user_id, Some(imp.admin_id)),
        None => (session_user, None),
    };
    let Some(user) = auth::session_user(&t.pool, user_id).await? else {
        return Ok(None);
    };
    let account_id = match session
        .get::<Uuid>(ACCOUNT_ID_KEY)
        .await
        .map_err(session_error)?
    {
        Some(id)
            if tollgate::db::accounts::role_of(&t.pool, id, user.id)
                .await
                .map_err(tollgate::service::Error::from)?
                .is_some() =>
        {
            id
        }
        chosen => {
            let Some(personal) = tollgate::db::accounts::personal_of(&t.pool, user.id)
                .await
                .map_err(tollgate::service::Error::from)?
            else {
                return Ok(None);
            };
            if refuse_stale && chosen.is_some_and(|id| id != personal.id) {
                // The account this session acted for dropped the user (removed from
                // the organization): this request is refused, not silently redone
                // for the personal account; the next one acts for the personal one.
                session
                    .insert(ACCOUNT_ID_KEY, personal.id)
                    .await
                    .map_err(session_error)?;
                return Err(forbidden(
                    "You are no longer a member of the organization this page acted for. You now act for your personal account.",
                ));
            }
            personal.id
        }
    };
    Ok(Some(SignedIn {
        user,
        account_id,
        impersonator,
    }))
}

/// The impersonation running on `session`, checked on every request: it ends
/// (back to the admin's own session, with a new session id, audited) when it ran
/// out after an hour (`impersonation.expired`), or when the admin is no longer an
/// enabled super admin or the user may no longer be impersonated
/// (`impersonation.ended`).
///
/// # Errors
/// Session or database failures.
pub async fn current_impersonation(
    t: &Tollgate,
    session: &Session,
    session_user: Uuid,
) -> Result<Option<Impersonation>, AppError> {
    let Some(imp) = session
        .get::<Impersonation>(IMPERSONATION_KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    let now = chrono::Utc::now();
    let ending = if imp.admin_id != session_user {
        Ending::Revoked
    } else if imp.expired(now) {
        Ending::Expired
    } else if impersonation::still_valid(&t.pool, &imp).await?.is_some() {
        return Ok(Some(imp));
    } else {
        Ending::Revoked
    };
    // Parallel calls of one request share the session: only the first one to
    // remove the entry records the end.
    if session
        .remove::<Impersonation>(IMPERSONATION_KEY)
        .await
        .map_err(session_error)?
        .is_some()
    {
        session
            .insert(ACCOUNT_ID_KEY, imp.admin_account_id)
            .await
            .map_err(session_error)?;
        session.cycle_id().await.map_err(session_error)?;
        impersonation::end(&t.pool, &imp, ending, now).await?;
    }
    Ok(None)
}

/// The signed-in super admin, acting as themself. Sets the response status to 403
/// when refused.
///
/// # Errors
/// [`AppError::SignInRequired`] when signed out; [`AppError::Forbidden`] for
/// everyone else, a super admin who is impersonating someone included.
pub async fn require_super_admin() -> Result<SignedIn, AppError> {
    let me = require_signed_in().await?;
    if me.impersonator.is_some() || !me.user.is_super_admin {
        return Err(forbidden("This area is for Tollgate staff only."));
    }
    Ok(me)
}

/// An [`AppError::Forbidden`] with `message`, answered with status 403.
pub fn forbidden(message: &str) -> AppError {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(axum::http::StatusCode::FORBIDDEN);
    }
    AppError::Forbidden(message.into())
}

/// Starts impersonating: a new session id, then the impersonation and the user's
/// account. The session's signed-in user stays the admin.
///
/// # Errors
/// Session store failures.
pub async fn begin_impersonation(imp: &Impersonation, account_id: Uuid) -> Result<(), AppError> {
    let session = session().await?;
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(IMPERSONATION_KEY, imp)
        .await
        .map_err(session_error)?;
    session
        .insert(ACCOUNT_ID_KEY, account_id)
        .await
        .map_err(session_error)?;
    Ok(())
}

/// Stops impersonating: back to the admin's own account, with a new session id.
/// Returns the impersonation that ended, if one ran.
///
/// # Errors
/// Session store failures.
pub async fn finish_impersonation() -> Result<Option<Impersonation>, AppError> {
    let session = session().await?;
    let Some(imp) = session
        .remove::<Impersonation>(IMPERSONATION_KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    session
        .insert(ACCOUNT_ID_KEY, imp.admin_account_id)
        .await
        .map_err(session_error)?;
    // A new id deletes the impersonating session's row at once, before the caller
    // announces the end: its open live streams find their session gone.
    session.cycle_id().await.map_err(session_error)?;
    Ok(Some(imp))
}

/// The signed-in user.
///
/// # Errors
/// [`AppError::SignInRequired`] when signed out.
pub async fn require_signed_in() -> Result<SignedIn, AppError> {
    signed_in().await?.ok_or(AppError::SignInRequired)
}

/// Starts a signed-in session: a new session id (so an id planted before log-in is
/// worthless), then the user and account.
///
/// # Errors
/// Session store failures.
pub async fn start_session(user_id: Uuid, account_id: Uuid) -> Result<(), AppError> {
    start_session_on(&tollgate()?, &session().await?, user_id, account_id).await
}

/// [`start_session`] on a given session, for the server's own routes (the
/// e-mail verification link).
///
/// # Errors
/// Session store failures.
pub async fn start_session_on(
    t: &Tollgate,
    session: &Session,
    user_id: Uuid,
    account_id: Uuid,
) -> Result<(), AppError> {
    // Logging in (or signing up) while impersonating ends the impersonation first,
    // audited as a log-out, so the new user never inherits it. The end is
    // announced after the id changed (which deletes the old session row), so the
    // live streams it wakes find their session gone.
    let ended = session
        .remove::<Impersonation>(IMPERSONATION_KEY)
        .await
        .map_err(session_error)?;
    session.cycle_id().await.map_err(session_error)?;
    if let Some(imp) = ended {
        impersonation::end(&t.pool, &imp, Ending::LoggedOut, chrono::Utc::now()).await?;
    }
    session
        .insert(USER_ID_KEY, user_id)
        .await
        .map_err(session_error)?;
    session
        .insert(ACCOUNT_ID_KEY, account_id)
        .await
        .map_err(session_error)?;
    Ok(())
}

/// Ends the session: the record is deleted and the cookie cleared.
///
/// # Errors
/// Session store failures.
pub async fn end_session() -> Result<(), AppError> {
    session().await?.flush().await.map_err(session_error)
}

/// Whether this call is a plain HTML form post (no JavaScript): the answer is then a
/// redirect, and return values do not reach the page.
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>()
        .and_then(|p| {
            p.headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false)
}

/// A request cookie's value.
pub fn cookie(name: &str) -> Option<String> {
    cookie_in(&use_context::<Parts>()?.headers, name)
}

/// The value of cookie `name` in request `headers`.
pub fn cookie_in(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Adds a `Set-Cookie` header to the response.
pub fn set_cookie(value: &str) {
    if let (Some(res), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::HeaderValue::from_str(value),
    ) {
        res.append_header(axum::http::header::SET_COOKIE, v);
    }
}

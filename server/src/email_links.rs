//! `GET /verify-email?token=…[&plan=…&interval=…|&then=pricing]`: the link of an
//! e-mail verification ([`tollgate::service::email_verification`]). The token is
//! the proof, so no session is needed: opening it verifies the address, sets the
//! password of the sign-up that sent it, and, in the browser that signed up (its
//! `tollgate_signup` cookie), logs its user in (a self sign-up logs in for the
//! first time this way; another browser goes to `/login?verified=1`, so that
//! nobody can log someone into an account by sending them its link), then
//! redirects (303): to the pricing page with
//! the plan chosen at sign-up marked (`/pricing?welcome=1&interval=…&chosen=…`),
//! or unmarked after a sign-up without one, else to the API keys page with
//! `?verified=1`. A disabled user is verified but not logged in
//! (`/login?verified=1`). An unknown, used or expired link goes to
//! `/login?verify=failed` and changes nothing. Works without JavaScript.

use crate::serve::AppState;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tollgate::service::{auth, email_verification};
use tower_sessions::Session;

/// The link's query.
#[derive(Deserialize)]
pub struct Link {
    token: Option<String>,
    plan: Option<String>,
    interval: Option<String>,
    then: Option<String>,
}

/// Uses the link, logs its user in and redirects (see the module).
pub async fn verify_email(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Query(link): Query<Link>,
) -> Response {
    let t = &state.tollgate;
    let token = link.token.unwrap_or_default();
    let verified = match email_verification::verify(&t.pool, &token, chrono::Utc::now()).await {
        Ok(v) => v,
        Err(e) => {
            tracing::info!(error = %e, "an e-mail verification link was refused");
            return Redirect::to("/login?verify=failed").into_response();
        }
    };
    let to = after_verification(
        link.plan.as_deref(),
        link.interval.as_deref(),
        link.then.as_deref(),
    );
    // A sign-up's link logs in only in the browser that signed up; elsewhere the
    // address is verified and its owner logs in with their password.
    let browser =
        tollgate_app::server::ctx::cookie_in(&headers, email_verification::SIGN_UP_COOKIE)
            .map(|c| tollgate::service::link_token::hash(&c));
    match verified.browser_hash {
        Some(expected) if browser.as_deref() == Some(expected.as_slice()) => {}
        Some(_) => return Redirect::to("/login?verified=1").into_response(),
        // A link asked for while logged in: the session, if any, goes on.
        None => return Redirect::to(&to).into_response(),
    }
    let user_id = verified.user_id;
    let signed_in = async {
        // A disabled user's address is verified, but they are not let in.
        auth::session_user(&t.pool, user_id).await.ok()??;
        let account = tollgate::db::accounts::personal_of(&t.pool, user_id)
            .await
            .ok()??;
        tollgate_app::server::ctx::start_session_on(t, &session, user_id, account.id)
            .await
            .map_err(|e| tracing::warn!(error = %e, "could not log in from a verification link"))
            .ok()
    };
    if signed_in.await.is_none() {
        return Redirect::to("/login?verified=1").into_response();
    }
    let clear = email_verification::sign_up_cookie("", 0, t.settings.cookie_secure);
    ([(SET_COOKIE, clear)], Redirect::to(&to)).into_response()
}

/// Where a verified user goes: the pricing page with the plan chosen at sign-up
/// marked (`plan` a plain catalog key, `interval` `month` or `year`), the pricing
/// page after a sign-up without one (`then=pricing`), else the API keys page. Anything
/// else in the link is ignored, so it cannot redirect elsewhere.
fn after_verification(plan: Option<&str>, interval: Option<&str>, then: Option<&str>) -> String {
    match (
        plan.filter(|p| email_verification::plain_key(p)),
        interval,
        then,
    ) {
        (Some(plan), Some(interval @ ("month" | "year")), _) => {
            format!("/pricing?welcome=1&interval={interval}&chosen={plan}")
        }
        (_, _, Some("pricing")) => "/pricing?welcome=1".into(),
        _ => "/settings/api-keys?verified=1".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::after_verification;

    #[test]
    fn only_a_plain_plan_and_interval_are_followed() {
        assert_eq!(
            after_verification(Some("starter"), Some("year"), None),
            "/pricing?welcome=1&interval=year&chosen=starter"
        );
        assert_eq!(
            after_verification(None, None, Some("pricing")),
            "/pricing?welcome=1"
        );
        for (plan, interval, then) in [
            (Some("//evil.example"), Some("month"), None),
            (Some("pro&x=1"), Some("month"), None),
            (Some("pro"), Some("week"), None),
            (Some("pro"), None, None),
            (None, Some("month"), None),
            (None, None, Some("https://evil.example")),
        ] {
            assert_eq!(
                after_verification(plan, interval, then),
                "/settings/api-keys?verified=1",
                "{plan:?} {interval:?} {then:?}"
            );
        }
    }
}

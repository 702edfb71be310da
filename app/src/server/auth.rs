//! Sign-up, log-in, log-out and the navigation's viewer.

use crate::error::AppError;
use crate::model::Viewer;
use leptos::prelude::*;

/// The signed-in user for the navigation, or `None`.
#[server(prefix = "/_fn", endpoint = "viewer")]
pub async fn get_viewer() -> Result<Option<Viewer>, AppError> {
    let Some(me) = super::ctx::signed_in_for_navigation().await? else {
        return Ok(None);
    };
    let t = super::ctx::tollgate()?;
    let account = tollgate::db::accounts::by_id(&t.pool, me.account_id)
        .await
        .map_err(tollgate::service::Error::from)?;
    let (_, unread) = tollgate::db::notifications::counts(&t.pool, me.account_id, me.user.id)
        .await
        .map_err(tollgate::service::Error::from)?;
    let impersonator = match me.impersonator {
        Some(admin) => tollgate::db::users::by_id(&t.pool, admin)
            .await
            .map_err(tollgate::service::Error::from)?
            .map(|a| a.email),
        None => None,
    };
    Ok(Some(Viewer {
        user_id: me.user.id,
        name: me.user.name.clone(),
        email: me.user.email.clone(),
        account_id: me.account_id,
        account_name: account.map(|a| a.name).unwrap_or_default(),
        super_admin: me.user.is_super_admin && me.impersonator.is_none(),
        impersonator,
        unread,
    }))
}

/// Creates an unverified account and e-mails its address a link that proves it
/// and logs in (a taken address is mailed a notice instead, and the visitor sees
/// the same answer: `/signup?sent=1`). A plan chosen on the pricing page rides on
/// the link: opening it shows the pricing page with that plan marked.
#[server(prefix = "/_fn", endpoint = "sign_up")]
pub async fn sign_up(
    name: String,
    email: String,
    password: String,
    plan: Option<String>,
    interval: Option<String>,
) -> Result<(), AppError> {
    use tollgate::identity::{Email, NewPassword, PersonName};
    use tollgate::service::auth;
    let plan = plan.filter(|p| !p.trim().is_empty());
    let interval_text = interval.clone().unwrap_or_default();
    let keep = [
        ("name", name.as_str()),
        ("email", email.as_str()),
        ("plan", plan.as_deref().unwrap_or("")),
        ("interval", interval_text.as_str()),
    ];

    let mut errors = crate::error::FormError::default();
    let parsed_email = Email::parse(&email)
        .map_err(|e| errors.fields.insert("email".into(), e.0))
        .ok();
    let parsed_name = PersonName::parse(&name)
        .map_err(|e| errors.fields.insert("name".into(), e.0))
        .ok();
    let parsed_password = NewPassword::parse(&password)
        .map_err(|e| errors.fields.insert("password".into(), e.0))
        .ok();
    let t = super::ctx::tollgate()?;
    let interval = super::plans::parse_interval(interval.as_deref());
    if let Some(p) = &plan {
        let catalog = t.catalog.get()?;
        match catalog.plan(p) {
            Some(found) if found.audience == tollgate::catalog::Audience::Team => {
                errors.message = Some(format!(
                    "{} is for organizations. Sign up with a personal plan first.",
                    found.name
                ));
            }
            Some(found) if found.self_serve && found.public && found.price(interval).is_some() => {}
            _ => {
                errors.message = Some(
                    "That plan cannot be chosen online. Pick another on the pricing page.".into(),
                );
            }
        }
    }
    let (Some(email_ok), Some(name_ok), Some(password_ok)) =
        (parsed_email, parsed_name, parsed_password)
    else {
        return Err(errors.with_values(&keep).into());
    };
    if !errors.is_empty() {
        return Err(errors.with_values(&keep).into());
    }
    let request = auth::register(&email_ok, &name_ok, &password_ok)
        .await
        .map_err(|e| AppError::from(e).with_values(&keep))?;
    // The same answer whether the address was new or taken (issue 12: sign-up
    // does not tell who has an account): the rest runs after answering, so its
    // time does not tell either; each address gets an e-mail, and a new user
    // logs in by opening the link.
    use tollgate::service::email_verification::{self, After};
    let after = plan.map_or(After::Pricing, |p| After::Plan(p, interval));
    // The browser that signed up: only it is logged in by the link (the cookie is
    // set for a new and a taken address alike).
    let browser = tollgate::service::link_token::new();
    super::ctx::set_cookie(&email_verification::sign_up_cookie(
        &browser,
        email_verification::VALID_HOURS * 3600,
        t.settings.cookie_secure,
    ));
    let browser_hash = tollgate::service::link_token::hash(&browser);
    tokio::spawn(async move {
        if let Err(e) = email_verification::complete_sign_up(
            &t,
            &request,
            &browser_hash,
            &after,
            chrono::Utc::now(),
        )
        .await
        {
            tracing::warn!(error = %e, "a sign-up could not be completed");
        }
    });
    leptos_axum::redirect("/signup?sent=1");
    Ok(())
}

/// Signs in and goes to `next` (a local path) or the dashboard. Five failures a
/// minute for an e-mail answer "too many attempts".
#[server(prefix = "/_fn", endpoint = "log_in")]
pub async fn log_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use tollgate::service::auth::{self, LoginError};
    let t = super::ctx::tollgate()?;
    let keep = [
        ("email", email.as_str()),
        ("next", next.as_deref().unwrap_or("")),
    ];
    if email.trim().is_empty() || password.is_empty() {
        let mut e = crate::error::FormError::default();
        if email.trim().is_empty() {
            e.fields
                .insert("email".into(), "Enter your e-mail address.".into());
        }
        if password.is_empty() {
            e.fields
                .insert("password".into(), "Enter your password.".into());
        }
        return Err(e.with_values(&keep).into());
    }
    let user = match auth::log_in(&t.pool, &email, &password).await {
        Ok(u) => u,
        Err(LoginError::Service(e)) => return Err(AppError::from(e).with_values(&keep)),
        Err(e) => {
            return Err(crate::error::FormError::message(e.to_string())
                .with_values(&keep)
                .into())
        }
    };
    let account = tollgate::db::accounts::personal_of(&t.pool, user.id)
        .await
        .map_err(tollgate::service::Error::from)?
        .ok_or_else(|| AppError::Server("This user has no account.".into()))?;
    super::ctx::start_session(user.id, account.id).await?;
    leptos_axum::redirect(&tollgate::identity::safe_next(next.as_deref()));
    Ok(())
}

/// Signs out and goes home. An impersonation running on the session ends with it
/// (audited as `impersonation.stopped`, `how: log_out`).
#[server(prefix = "/_fn", endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    if let Some(imp) = super::ctx::finish_impersonation().await? {
        let t = super::ctx::tollgate()?;
        tollgate::service::admin::impersonation::end(
            &t.pool,
            &imp,
            tollgate::service::admin::impersonation::Ending::LoggedOut,
            chrono::Utc::now(),
        )
        .await?;
    }
    super::ctx::end_session().await?;
    leptos_axum::redirect("/");
    Ok(())
}

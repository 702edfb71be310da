//! Starting and stopping an impersonation.

use crate::error::AppError;
use leptos::prelude::*;

/// Starts viewing as user `id` for `reason` (required, at most 500 characters),
/// with a new session id; lands on the user's dashboard.
#[server(prefix = "/_fn", endpoint = "admin_impersonate")]
pub async fn impersonate(id: String, reason: String) -> Result<(), AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let id = super::parse_id(&id, "user")?;
    let started = tollgate::service::admin::impersonation::start(
        &t.pool,
        &me.actor(),
        id,
        &reason,
        me.account_id,
        chrono::Utc::now(),
    )
    .await
    .map_err(|e| AppError::from(e).with_values(&[("reason", reason.as_str())]))?;
    super::super::ctx::begin_impersonation(&started.impersonation, started.account_id).await?;
    leptos_axum::redirect("/dashboard");
    Ok(())
}

/// Stops viewing as a user: back to the admin's own session (new session id),
/// landing on the user's admin page. Audited as `impersonation.stopped`.
#[server(prefix = "/_fn", endpoint = "impersonation_stop")]
pub async fn stop_impersonating() -> Result<(), AppError> {
    let me = super::super::ctx::require_signed_in().await?;
    let Some(imp) = super::super::ctx::finish_impersonation().await? else {
        return Err(AppError::Forbidden(format!(
            "{} is not being impersonated.",
            me.user.email
        )));
    };
    let t = super::super::ctx::tollgate()?;
    tollgate::service::admin::impersonation::end(
        &t.pool,
        &imp,
        tollgate::service::admin::impersonation::Ending::Stopped,
        chrono::Utc::now(),
    )
    .await?;
    leptos_axum::redirect(&format!("/admin/users/{}", imp.user_id));
    Ok(())
}

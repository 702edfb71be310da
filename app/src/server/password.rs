//! "Forgot your password?": asking for a link and setting a new password with it.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::error::FormError;
use leptos::prelude::*;

/// What `/forgot-password` always answers, account or not.
pub const SENT_MESSAGE: &str = "If an account exists for that e-mail, we sent a link.";

/// Sends a reset link if `email` has an account; answers the same either way
/// (without JavaScript: a redirect to `/forgot-password?sent=1`).
#[server(prefix = "/_fn", endpoint = "forgot_password")]
pub async fn forgot_password(email: String) -> Result<String, AppError> {
    let t = super::ctx::tollgate()?;
    let keep = [("email", email.as_str())];
    if email.trim().is_empty() {
        return Err(FormError::field("email", "Enter your e-mail address.")
            .with_values(&keep)
            .into());
    }
    tollgate::service::password_reset::request(&t, &email, chrono::Utc::now())
        .await
        .map_err(|e| AppError::from(e).with_values(&keep))?;
    leptos_axum::redirect("/forgot-password?sent=1");
    Ok(SENT_MESSAGE.to_string())
}

/// Sets a new password with the link's `token` (`password` twice, the sign-up
/// rules), ends every session of the user, and goes to log-in.
#[server(prefix = "/_fn", endpoint = "reset_password")]
pub async fn reset_password(
    token: String,
    password: String,
    confirm: String,
) -> Result<(), AppError> {
    let t = super::ctx::tollgate()?;
    let keep = [("token", token.as_str())];
    let parsed = tollgate::identity::NewPassword::parse(&password)
        .map_err(|e| AppError::from(FormError::field("password", e.0)).with_values(&keep))?;
    if password != confirm {
        return Err(FormError::field("confirm", "The two passwords differ.")
            .with_values(&keep)
            .into());
    }
    tollgate::service::password_reset::reset(&t, &token, &parsed, chrono::Utc::now())
        .await
        .map_err(|e| {
            let e = AppError::from(e).with_values(&keep);
            match e {
                // The token is hidden: say what is wrong for the whole form.
                AppError::Form(mut f) => {
                    if let Some(m) = f.fields.remove("token") {
                        f.message = Some(m);
                    }
                    AppError::Form(f)
                }
                other => other,
            }
        })?;
    leptos_axum::redirect("/login?reset=1");
    Ok(())
}

//! `GET /verify-email?token=…`: the link of an e-mail verification
//! ([`tollgate::service::email_verification`]). The token is the proof, so no
//! session is needed; the answer is a redirect to the API keys page with
//! `?verified=1`, or `?verified=0` for an unknown, used or expired link. Works
//! without JavaScript.

use crate::serve::AppState;
use axum::extract::{Query, State};
use axum::response::Redirect;
use serde::Deserialize;
use tollgate::service::email_verification;

/// The link's query.
#[derive(Deserialize)]
pub struct Link {
    token: Option<String>,
}

/// Uses the link and redirects (303) to `/settings/api-keys?verified=…`.
pub async fn verify_email(State(state): State<AppState>, Query(link): Query<Link>) -> Redirect {
    let token = link.token.unwrap_or_default();
    let verified =
        match email_verification::verify(&state.tollgate.pool, &token, chrono::Utc::now()).await {
            Ok(_) => true,
            Err(e) => {
                tracing::info!(error = %e, "an e-mail verification link was refused");
                false
            }
        };
    Redirect::to(if verified {
        "/settings/api-keys?verified=1"
    } else {
        "/settings/api-keys?verified=0"
    })
}

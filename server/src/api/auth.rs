//! `Authorization: Bearer <secret key>` (API.md "Authentication").

use super::error::ApiError;
use crate::serve::AppState;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use tollgate::service::keys::{self, Caller};

/// The authenticated caller of an API request.
pub struct ApiCaller(pub Caller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("send your key as `Authorization: Bearer tg_sk_…`")
        })?;
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <key>`")
            })?;
        keys::authenticate_cached(&state.tollgate, secret)
            .await
            .map(ApiCaller)
            .map_err(ApiError::from)
    }
}

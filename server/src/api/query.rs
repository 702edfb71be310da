//! Query strings: a malformed one, or one holding a NUL, is `400 invalid_request`
//! in the API's envelope.

use super::error::ApiError;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A query string of type `T`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A NUL (`%00`) would reach PostgreSQL, which cannot store or compare it.
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(ApiError::invalid(
                "query",
                None,
                "the query may not contain the character U+0000 (NUL)",
            ));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::invalid("query", None, e.body_text()))
    }
}

/// Path parameters of type `T`: a malformed one (an id that is not a uuid) is
/// `400 invalid_request` in the API's envelope.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(p)| ApiPath(p))
            .map_err(|e| ApiError::invalid("path", None, e.body_text()))
    }
}

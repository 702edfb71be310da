//! HTTP statuses for server functions' errors (issue 12): Leptos answers every
//! server-function error with 500, so monitoring would count a mistyped e-mail as
//! an outage. This middleware reads the error the function returned (the JSON of
//! [`AppError`], marked by server_fn's `serverfnerror` header) and answers what it
//! is: 422 for bad input, 401, 402, 403, 404; only a server failure stays 500. The
//! body is unchanged, and the client decodes any 4xx or 5xx the same way.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use tollgate_app::error::AppError;

/// The status an error deserves.
pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Form(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::SignInRequired => StatusCode::UNAUTHORIZED,
        AppError::PlanRequired => StatusCode::PAYMENT_REQUIRED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The middleware, for `/_fn/*`.
pub async fn error_status(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/_fn/") {
        return next.run(req).await;
    }
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, 1 << 20).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(e) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = status_of(&e);
    }
    Response::from_parts(parts, Body::from(bytes))
}

//! API errors: `{"error": {"code", "message", "details"}}` with the status codes of
//! API.md "Errors".

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};
use tollgate::service::Error;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Option<Value>,
    retry_after: Option<u64>,
}

/// The error envelope, for the OpenAPI document.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// One error.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `unauthorized`, `forbidden`, `not_found`, `invalid_request`, `payload_too_large`,
    /// `idempotency_conflict`, `plan_limit_exceeded`, `rate_limited`.
    pub code: String,
    /// A sentence for a developer.
    pub message: String,
    /// `field` (and `index` for a batch) for `invalid_request`; the check's answer
    /// for `plan_limit_exceeded`; `retry_after` for `rate_limited`. Present only
    /// when it says something (API.md).
    #[schema(value_type = Object, required = false)]
    pub details: Option<Value>,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// Adds details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// `400 invalid_request` naming `field` (and the batch `index`).
    pub fn invalid(field: &str, index: Option<usize>, message: impl Into<String>) -> Self {
        let details = match index {
            Some(i) => json!({ "field": field, "index": i }),
            None => json!({ "field": field }),
        };
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message).with_details(details)
    }

    /// `401 unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// `413 payload_too_large`.
    pub fn too_large() -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the body is larger than {} bytes; send at most 1000 events per request",
                super::MAX_BODY_BYTES
            ),
        )
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid {
                field,
                message,
                index,
            } => {
                let message = match index {
                    Some(i) => format!("event {i}: `{field}` {message}"),
                    None => format!("`{field}`: {message}"),
                };
                ApiError::invalid(&field, index, message)
            }
            Error::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "not_found", m),
            Error::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            Error::Unauthorized => ApiError::unauthorized("missing, unknown or revoked API key"),
            Error::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            Error::IdempotencyConflict { ref key, index } => {
                let message = e.to_string();
                let mut details = json!({ "idempotency_key": key });
                if let Some(i) = index {
                    details["index"] = json!(i);
                }
                ApiError::new(StatusCode::CONFLICT, "idempotency_conflict", message)
                    .with_details(details)
            }
            Error::RateLimited {
                message,
                retry_after,
            } => ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "rate_limited",
                message,
                details: Some(json!({ "retry_after": retry_after })),
                retry_after: Some(retry_after),
            },
            Error::PlanLimitExceeded(check) => {
                let body = serde_json::to_value(super::check::MeterCheckResponse::from(*check))
                    .unwrap_or(Value::Null);
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "plan_limit_exceeded",
                    "the plan's hard limit does not allow this quantity",
                )
                .with_details(body)
            }
            Error::NoCatalog => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "no catalog is loaded yet",
            ),
            other => {
                tracing::error!(error = %other, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "something went wrong on our side; retry later",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(d) = self.details {
            error["details"] = d;
        }
        let mut res = (self.status, axum::Json(json!({ "error": error }))).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// `404 not_found` for unknown API paths.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such API endpoint; see /api/v1/openapi.json",
    )
}

/// `405` for a known path with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; see /api/v1/openapi.json",
    )
}

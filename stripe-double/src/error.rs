//! Errors in Stripe's wire shape: `{"error": {"type", "message", "param", "code", "decline_code"}}`
//! with the HTTP status Stripe uses (<https://docs.stripe.com/api/errors>).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// One API error as Stripe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status: 400 invalid parameters, 401 bad key, 402 card errors, 404 unknown object.
    pub status: StatusCode,
    /// Stripe's `error.type`: `invalid_request_error`, `card_error`, `idempotency_error`, `api_error`.
    pub kind: &'static str,
    /// Human-readable `error.message`.
    pub message: String,
    /// `error.param`: the offending parameter in bracket notation (`items[0][price]`).
    pub param: Option<String>,
    /// `error.code`: e.g. `resource_missing`, `parameter_missing`, `card_declined`.
    pub code: Option<String>,
    /// `error.decline_code` of card errors, e.g. `generic_decline`.
    pub decline_code: Option<String>,
}

impl ApiError {
    /// 400 `invalid_request_error` about `param`.
    pub fn invalid(param: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            message: message.into(),
            param: Some(param.to_owned()),
            code: None,
            decline_code: None,
        }
    }

    /// 400 `parameter_missing` for a required `param`.
    pub fn missing(param: &str) -> Self {
        Self {
            code: Some("parameter_missing".into()),
            ..Self::invalid(param, format!("Missing required param: {param}."))
        }
    }

    /// 404 `resource_missing`: "No such {what}: '{id}'", as Stripe words it.
    pub fn no_such(what: &str, id: &str, param: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            message: format!("No such {what}: '{id}'"),
            param: Some(param.to_owned()),
            code: Some("resource_missing".into()),
            decline_code: None,
        }
    }

    /// 404 for a URL the double does not serve ("Unrecognized request URL").
    pub fn unknown_url(method: &str, path: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            message: format!("Unrecognized request URL ({method}: {path})."),
            param: None,
            code: None,
            decline_code: None,
        }
    }

    /// 401 for a missing or wrong secret key.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            kind: "invalid_request_error",
            message: message.into(),
            param: None,
            code: None,
            decline_code: None,
        }
    }

    /// 402 `card_error` with `code` (e.g. `card_declined`) and `decline_code`.
    pub fn card(message: impl Into<String>, code: &str, decline_code: Option<&str>) -> Self {
        Self {
            status: StatusCode::PAYMENT_REQUIRED,
            kind: "card_error",
            message: message.into(),
            param: None,
            code: Some(code.to_owned()),
            decline_code: decline_code.map(str::to_owned),
        }
    }

    /// 400 `idempotency_error`: a key reused with different parameters.
    pub fn idempotency(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "idempotency_error",
            message: message.into(),
            param: None,
            code: None,
            decline_code: None,
        }
    }

    /// The `{"error": {...}}` body.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("type".into(), json!(self.kind));
        error.insert("message".into(), json!(self.message));
        if let Some(param) = &self.param {
            error.insert("param".into(), json!(param));
        }
        if let Some(code) = &self.code {
            error.insert("code".into(), json!(code));
            error.insert(
                "doc_url".into(),
                json!(format!(
                    "https://stripe.com/docs/error-codes/{}",
                    code.replace('_', "-")
                )),
            );
        }
        if let Some(decline) = &self.decline_code {
            error.insert("decline_code".into(), json!(decline));
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.kind,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

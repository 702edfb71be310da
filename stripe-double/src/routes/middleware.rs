//! Secret-key authentication and `Idempotency-Key` replay for `/v1`
//! (<https://docs.stripe.com/api/authentication>, <https://docs.stripe.com/api/idempotent_requests>).

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::App;
use crate::error::ApiError;
use crate::state::StoredResponse;

/// Logs every request's method, path and answer status.
pub async fn log(req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let response = next.run(req).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), "request");
    response
}

/// Largest request body accepted (Stripe's own limit is far above any form the double needs).
const MAX_BODY: usize = 1 << 20;

/// Requires `Authorization: Bearer {api_key}`; otherwise 401 in Stripe's words.
pub async fn auth(State(app): State<App>, req: Request, next: Next) -> Response {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(value) = header else {
        return ApiError::unauthorized(
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        )
        .into_response();
    };
    let key = value.strip_prefix("Bearer ").unwrap_or(value).trim();
    if key != app.config.api_key {
        return ApiError::unauthorized(format!("Invalid API Key provided: {}", mask(key)))
            .into_response();
    }
    next.run(req).await
}

/// `sk_test_…abcd` → `sk_test_********abcd`, as Stripe echoes a wrong key.
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 12))
}

/// For `POST`s with an `Idempotency-Key`: the first response is stored and replayed for the same
/// key (with `Idempotent-Replayed: true`); the same key with another path or body is refused with
/// 400 `idempotency_error`. Server errors are not stored, so a retry runs again.
pub async fn idempotency(State(app): State<App>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::invalid("body", "The request body could not be read.").into_response();
    };
    let route = format!("{} {}", parts.method, parts.uri.path());
    let body_text = String::from_utf8_lossy(&bytes).into_owned();
    let stored = app.lock().idempotency.get(&key).cloned();
    if let Some(stored) = stored {
        if stored.route != route || stored.body != body_text {
            return ApiError::idempotency(format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
            ))
            .into_response();
        }
        let mut response = (
            StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
            stored.response,
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        if let Ok(v) = HeaderValue::from_str(&key) {
            headers.insert("idempotency-key", v);
        }
        return response;
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (mut parts, body) = response.into_parts();
    let Ok(out) = to_bytes(body, usize::MAX).await else {
        return ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "api_error",
            ..ApiError::invalid("body", "response lost")
        }
        .into_response();
    };
    let status = parts.status.as_u16();
    if status < 500 {
        app.lock().idempotency.insert(
            key.clone(),
            StoredResponse {
                route,
                body: body_text,
                status,
                response: out.to_vec(),
            },
        );
    }
    if let Ok(v) = HeaderValue::from_str(&key) {
        parts.headers.insert("idempotency-key", v);
    }
    Response::from_parts(parts, Body::from(out))
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_all_but_prefix_and_last_four() {
        assert_eq!(mask("sk_test_wrongkey1234"), "sk_test_********1234");
        assert_eq!(mask("short"), "*****");
    }
}

//! JSON bodies: a body over the limit is `413 payload_too_large`; a malformed one is
//! `400 invalid_request` naming the field (`events[3].timestamp` becomes
//! `{"field": "timestamp", "index": 3}`).

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// A JSON body of type `T`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large()
            } else {
                ApiError::invalid("body", None, format!("could not read the body: {e}"))
            }
        })?;
        if has_nul(&bytes) {
            return Err(ApiError::invalid(
                "body",
                None,
                "strings may not contain the character U+0000 (NUL)",
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut de)
            .map(ApiJson)
            .map_err(|e| {
                let mut path = e.path().to_string();
                let inner = e.into_inner();
                // A missing field is reported at its parent: name the field itself.
                if let Some(missing) = missing_field(&inner.to_string()) {
                    path = if path == "." {
                        missing.to_string()
                    } else {
                        format!("{path}.{missing}")
                    };
                }
                let (field, index) = locate(&path);
                let message = if inner.is_syntax() || inner.is_eof() {
                    format!("the body is not valid JSON: {inner}")
                } else {
                    format!("`{}`: {inner}", e_path_or_body(&field))
                };
                ApiError::invalid(&field, index, message)
            })
    }
}

/// Whether the JSON text holds a NUL character (`\u0000`, the only way JSON can
/// carry one): PostgreSQL's text and jsonb cannot store it, so it is refused at the
/// edge rather than failing the transaction. A `\\u0000` (an escaped backslash,
/// then `u0000`) is plain text and passes.
fn has_nul(json: &[u8]) -> bool {
    json.windows(6).enumerate().any(|(i, w)| {
        w == b"\\u0000" && json[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })
}

fn e_path_or_body(field: &str) -> &str {
    if field.is_empty() {
        "body"
    } else {
        field
    }
}

/// The field named by serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// Splits `events[3].quantity` into (`quantity`, `Some(3)`); other paths stay whole.
pub fn locate(path: &str) -> (String, Option<usize>) {
    if let Some(rest) = path.strip_prefix("events[") {
        if let Some((index, field)) = rest.split_once("].") {
            if let Ok(i) = index.parse() {
                return (field.to_string(), Some(i));
            }
        }
        if let Some(index) = rest.strip_suffix(']') {
            if let Ok(i) = index.parse() {
                return ("events".to_string(), Some(i));
            }
        }
    }
    (
        if path == "." {
            "body".to_string()
        } else {
            path.to_string()
        },
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn batch_paths_name_the_event() {
        assert_eq!(locate("events[3].quantity"), ("quantity".into(), Some(3)));
        assert_eq!(locate("events[12]"), ("events".into(), Some(12)));
        assert_eq!(locate("feature"), ("feature".into(), None));
        assert_eq!(locate("."), ("body".into(), None));
        assert_eq!(
            super::missing_field("missing field `quantity` at line 1 column 52"),
            Some("quantity")
        );
        assert_eq!(super::missing_field("invalid type"), None);
    }

    #[test]
    fn a_nul_escape_is_found_and_an_escaped_backslash_is_not_one() {
        use super::has_nul;
        assert!(has_nul(br#"{"k": "a\u0000b"}"#));
        assert!(has_nul(br#"{"\u0000": 1}"#));
        assert!(
            has_nul(br#"{"k": "\\\u0000"}"#),
            "an escaped backslash, then a NUL"
        );
        assert!(
            !has_nul(br#"{"k": "a\\u0000b"}"#),
            "an escaped backslash, then u0000"
        );
        assert!(!has_nul(br#"{"k": "u0000"}"#));
    }
}

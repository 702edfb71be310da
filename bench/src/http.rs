//! The HTTP client and the one request shape both scenarios send.

use anyhow::Context;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// An HTTP/1.1 client that keeps its connections alive and reuses them.
///
/// # Errors
/// When the TLS-less client cannot be built (should not happen).
pub fn client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(usize::MAX)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")
}

/// `Authorization: Bearer <key>`.
///
/// # Errors
/// A key with characters a header cannot hold.
pub fn bearer(key: &str) -> anyhow::Result<HeaderValue> {
    HeaderValue::from_str(&format!("Bearer {key}"))
        .context("the API key is not a valid header value")
}

/// An error with its causes (reqwest hides "connection refused" in the chain).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// POSTs a JSON `body` and reads the whole answer. A 2xx answer is parsed as `T`;
/// anything else (status, transport error, timeout, unreadable body) is described
/// in the error, cut to 300 characters.
pub async fn post_json<T: DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
    auth: &HeaderValue,
    body: String,
) -> Result<T, String> {
    let outcome = match client
        .post(url)
        .header(AUTHORIZATION, auth.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
    {
        Ok(resp) => {
            let status = resp.status();
            match resp.bytes().await {
                Ok(bytes) if status.is_success() => {
                    serde_json::from_slice::<T>(&bytes).map_err(|e| {
                        format!(
                            "HTTP {status}: unreadable answer ({e}): {}",
                            String::from_utf8_lossy(&bytes)
                        )
                    })
                }
                Ok(bytes) => Err(format!(
                    "HTTP {status}: {}",
                    String::from_utf8_lossy(&bytes)
                )),
                Err(e) => Err(format!(
                    "HTTP {status}: reading the answer: {}",
                    with_causes(&e)
                )),
            }
        }
        Err(e) => Err(format!("request failed: {}", with_causes(&e))),
    };
    outcome.map_err(|e| e.chars().take(300).collect())
}

/// The account's stored usage of `meter` this period, as `GET /api/v1/usage` gives
/// it (a decimal string).
///
/// # Errors
/// The request fails or the meter is not in the answer.
pub async fn stored_usage(
    client: &reqwest::Client,
    base: &str,
    auth: &HeaderValue,
    meter: &str,
) -> anyhow::Result<String> {
    let url = format!("{}/api/v1/usage", base.trim_end_matches('/'));
    let usage: serde_json::Value = client
        .get(&url)
        .header(AUTHORIZATION, auth.clone())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    usage["meters"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["meter"] == meter))
        .and_then(|m| m["usage"].as_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no usage of `{meter}` in {usage}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_listed() {
        let inner =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let outer = std::io::Error::other(Wrapper(inner));
        assert_eq!(with_causes(&outer), "wrapped: Connection refused");
        assert!(bearer("tg_sk_abc").is_ok());
        assert!(bearer("bad\nkey").is_err());
    }

    #[derive(Debug)]
    struct Wrapper(std::io::Error);
    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapped")
        }
    }
    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
}

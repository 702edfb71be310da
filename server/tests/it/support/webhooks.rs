//! A webhook receiver for the tests: keeps every request and answers with a status
//! the test sets; and the check of deliveries by Standard Webhooks' own library.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use tollgate::service::webhooks::deliver::{self, Client, Report};
use tollgate::service::webhooks::WebhookSettings;
use tollgate::service::Tollgate;

/// One request received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    body: Arc<Mutex<String>>,
}

impl Receiver {
    /// Starts one on a random port, answering 204.
    pub async fn start() -> Receiver {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(204));
        let answer_body = Arc::new(Mutex::new("receiver says hello".to_owned()));
        let (r, s, b) = (Arc::clone(&received), Arc::clone(&status), Arc::clone(&answer_body));
        let app = axum::Router::new().fallback(axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (r, s, b) = (Arc::clone(&r), Arc::clone(&s), Arc::clone(&b));
            async move {
                let headers = headers
                    .iter()
                    .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
                    .collect();
                r.lock().unwrap().push(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
                let code = StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap();
                let text = b.lock().unwrap().clone();
                (code, text)
            }
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, received, status, body: answer_body }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.addr)
    }

    /// Answers `code` from now on.
    pub fn answer(&self, code: u16) {
        self.status.store(code, Ordering::SeqCst);
    }

    /// Answers with `body` from now on.
    pub fn answer_with(&self, body: &str) {
        *self.body.lock().unwrap() = body.to_owned();
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The types received, in order.
    pub fn types(&self) -> Vec<String> {
        self.all().iter().map(|r| r.json()["type"].as_str().unwrap_or_default().to_owned()).collect()
    }
}

/// Webhook settings for tests: private targets allowed (the receiver is on
/// 127.0.0.1), a 2-second timeout.
pub fn settings() -> WebhookSettings {
    WebhookSettings {
        allow_private_targets: true,
        timeout: std::time::Duration::from_secs(2),
        concurrency: 4,
    }
}

/// One pass of the delivery worker at `now`.
pub async fn deliver(t: &Tollgate, now: chrono::DateTime<chrono::Utc>) -> Report {
    let client = Client::new(&t.webhooks).expect("client");
    deliver::deliver_due(t, &client, now).await.expect("deliver")
}

/// Verifies `deliveries` with the `standardwebhooks` package from PyPI
/// (scripts/verify_webhooks.py): each must verify with every one of `secrets`,
/// and not once altered. Panics with the verifier's output otherwise.
pub fn verify_with_standard_library(secrets: &[&str], deliveries: &[Received]) -> String {
    use std::io::Write;
    let python = std::env::var("TOLLGATE_TEST_WEBHOOK_VERIFIER")
        .expect("TOLLGATE_TEST_WEBHOOK_VERIFIER names a python with standardwebhooks (scripts/test.sh sets it)");
    let input = serde_json::json!({
        "secrets": secrets,
        "deliveries": deliveries.iter().map(|d| serde_json::json!({
            "headers": d.headers.iter().cloned().collect::<std::collections::HashMap<_, _>>(),
            "body": d.body,
        })).collect::<Vec<_>>(),
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/verify_webhooks.py");
    let mut child = std::process::Command::new(python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the verifier starts");
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().expect("the verifier ends");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "standardwebhooks refused a delivery:\n{text}");
    text
}

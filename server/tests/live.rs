//! Live fan-out through PostgreSQL: a change accepted by one server process
//! reaches the live streams of another.

mod support;

use futures::StreamExt;
use serde_json::Value;
use sqlx::PgPool;
use std::time::{Duration, Instant};
use support::{spawn_app, spawn_on, PASSWORD};

#[sqlx::test(migrations = "../migrations")]
async fn an_event_on_one_process_moves_the_stream_of_another_within_a_second(pool: PgPool) {
    let first = spawn_app(pool.clone()).await;
    let second = spawn_on(pool).await;
    let c = first.customer(Some("starter")).await;

    let login = first
        .http
        .post(first.url("/_fn/log_in"))
        .header("accept", "text/html")
        .form(&[("email", c.email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = login.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).find(|v| v.starts_with("tollgate_session=")).unwrap().split(';').next().unwrap().to_string();

    let res = first.http.get(first.url("/live/usage")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut stream = res.bytes_stream();
    let mut buffer = String::new();
    let mut next_data = async || -> Value {
        loop {
            if let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                    return serde_json::from_str(data).expect("json");
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next()).await.expect("an update in time").unwrap().unwrap();
            buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    };
    let initial = next_data().await;
    assert_eq!(initial["snapshot"]["plan"]["key"], "starter");

    // Wait for the second process's listener to be up before sending.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = Instant::now();
    assert_eq!(second.queries(&c.key, "live", 3).await.status(), 202);
    let update = next_data().await;
    let elapsed = sent.elapsed();
    let queries = update["snapshot"]["meters"].as_array().unwrap().iter().find(|m| m["meter"] == "queries").unwrap().clone();
    assert_eq!(queries["usage"], "3");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");

    // Logging out (from any tab) ends the stream at its next update.
    let out = first.http.post(first.url("/_fn/log_out")).header("cookie", &cookie).header("accept", "text/html").send().await.unwrap();
    assert_eq!(out.status(), 302);
    assert_eq!(second.queries(&c.key, "after-logout", 1).await.status(), 202);
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if buffer.contains("event: end") {
                return true;
            }
            match stream.next().await {
                Some(Ok(chunk)) => {
                    let text = std::str::from_utf8(&chunk).unwrap().to_string();
                    assert!(!text.contains("\"usage\":\"4\""), "no data after log-out: {text}");
                    buffer.push_str(&text);
                }
                _ => return true,
            }
        }
    })
    .await
    .expect("the stream ends");
    assert!(ended);

    // Signed out: no stream.
    let anonymous = first.http.get(first.url("/live/usage")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

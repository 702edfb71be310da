//! Reading a Server-Sent Events response frame by frame.

use futures::stream::BoxStream;
use futures::StreamExt;
use reqwest::Response;
use serde_json::Value;
use std::time::Duration;

/// An open event stream.
pub struct Events {
    stream: BoxStream<'static, reqwest::Result<Vec<u8>>>,
    /// What arrived and was not read yet.
    pub buffer: String,
}

impl Events {
    /// Reads `res`'s body as events.
    pub fn new(res: Response) -> Self {
        Events {
            stream: res.bytes_stream().map(|r| r.map(|b| b.to_vec())).boxed(),
            buffer: String::new(),
        }
    }

    /// The next frame's `(event, data)` (`event` is `message` when unnamed), waiting
    /// at most `within`; panics when nothing arrives in time or the stream ends.
    pub async fn next_frame(&mut self, within: Duration) -> (String, String) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let data = frame
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect::<Vec<_>>()
                    .join("\n");
                if data.is_empty() && !frame.contains("event: ") {
                    continue; // a keep-alive comment
                }
                let event = frame
                    .lines()
                    .find_map(|l| l.strip_prefix("event: "))
                    .unwrap_or("message")
                    .to_string();
                return (event, data);
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .expect("an event in time")
                .expect("the stream is open")
                .expect("a chunk");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        }
    }

    /// The next message's data as JSON (5 s at most).
    pub async fn next_json(&mut self) -> Value {
        let (event, data) = self.next_frame(Duration::from_secs(5)).await;
        assert_eq!(event, "message", "{data}");
        serde_json::from_str(&data).expect("json")
    }
}

//! `tollgate webhooks …`: the operator's outgoing webhook endpoints (platform-wide,
//! or an account's with `--account`), their delivery log and replay, and `listen`,
//! a small receiver that verifies and prints what Tollgate sends (the demo starts
//! one).

use anyhow::Context;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use clap::Subcommand;
use std::net::SocketAddr;
use std::sync::Arc;
use tollgate::service::webhooks::{self, signing, EndpointInput, Scope};
use tollgate::service::{Actor, Tollgate};
use uuid::Uuid;

#[derive(Subcommand)]
pub enum WebhooksCommand {
    /// Add an endpoint; prints its id and its secret (shown only now).
    Add {
        /// Where deliveries go (http:// or https://).
        url: String,
        /// An event type wanted (repeat for several); none: every type.
        #[arg(long = "event")]
        events: Vec<String>,
        /// The account whose events it receives (uuid, `ext:<id>`, or a personal
        /// account's e-mail); default: platform-wide, every account's events.
        #[arg(long)]
        account: Option<String>,
        /// One line describing it.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List the endpoints.
    List {
        #[arg(long)]
        account: Option<String>,
    },
    /// Remove an endpoint and its delivery log.
    Remove {
        id: Uuid,
        #[arg(long)]
        account: Option<String>,
    },
    /// Enable or disable an endpoint.
    Enable {
        id: Uuid,
        /// `false` disables it.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        enabled: bool,
        #[arg(long)]
        account: Option<String>,
    },
    /// Give an endpoint a new secret (the old one signs too for 24 hours).
    Rotate {
        id: Uuid,
        #[arg(long)]
        account: Option<String>,
    },
    /// An endpoint's latest deliveries.
    Deliveries {
        id: Uuid,
        #[arg(long)]
        account: Option<String>,
        /// Page from 0, 25 each.
        #[arg(long, default_value_t = 0)]
        page: u32,
    },
    /// Send a delivery's event again.
    Replay {
        id: Uuid,
        delivery: Uuid,
        #[arg(long)]
        account: Option<String>,
    },
    /// Receive deliveries: verify each signature and print one line per delivery
    /// (for development and the demo).
    Listen {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3999")]
        listen: SocketAddr,
        /// Verify with this secret (`whsec_…`); without it, with the secrets of
        /// every endpoint whose URL points to `--listen`, read from the database.
        #[arg(long, env = "TOLLGATE_WEBHOOK_SECRET")]
        secret: Option<String>,
    },
}

async fn scope(t: &Tollgate, account: Option<&str>) -> anyhow::Result<Scope> {
    Ok(match account {
        Some(a) => Scope::Account(super::find_account(t, a).await?),
        None => Scope::Platform,
    })
}

fn line(e: &webhooks::Endpoint) -> String {
    let types = if e.event_types.is_empty() { "all events".to_owned() } else { e.event_types.join(",") };
    let state = match (&e.enabled, &e.disabled_reason) {
        (true, _) => "enabled".to_owned(),
        (false, Some(r)) => format!("disabled ({r})"),
        (false, None) => "disabled".to_owned(),
    };
    format!("{}  {}  {}  {}", e.id, e.url, types, state)
}

/// Runs one `tollgate webhooks` command.
///
/// # Errors
/// The service's refusal, or a database error.
pub async fn run(t: &Tollgate, command: WebhooksCommand) -> anyhow::Result<()> {
    let actor = Actor::Cli;
    let fail = |e: tollgate::service::Error| anyhow::anyhow!("{e}");
    match command {
        WebhooksCommand::Add { url, events, account, description } => {
            let scope = scope(t, account.as_deref()).await?;
            let input = EndpointInput {
                url: Some(url),
                description: Some(description),
                event_types: Some(events),
                enabled: None,
            };
            let created = webhooks::create(t, &actor, scope, &input).await.map_err(fail)?;
            println!("{}", line(&created.endpoint));
            println!("secret (shown only now): {}", created.secret);
        }
        WebhooksCommand::List { account } => {
            let list = webhooks::list(t, scope(t, account.as_deref()).await?).await.map_err(fail)?;
            if list.is_empty() {
                println!("no webhook endpoints");
            }
            for e in &list {
                println!("{}", line(e));
            }
        }
        WebhooksCommand::Remove { id, account } => {
            webhooks::delete(t, &actor, scope(t, account.as_deref()).await?, id).await.map_err(fail)?;
            println!("removed {id}");
        }
        WebhooksCommand::Enable { id, enabled, account } => {
            let input = EndpointInput { enabled: Some(enabled), ..Default::default() };
            let e = webhooks::update(t, &actor, scope(t, account.as_deref()).await?, id, &input).await.map_err(fail)?;
            println!("{}", line(&e));
        }
        WebhooksCommand::Rotate { id, account } => {
            let (e, secret) = webhooks::rotate_secret(t, &actor, scope(t, account.as_deref()).await?, id, Utc::now()).await.map_err(fail)?;
            println!("{}", line(&e));
            println!("new secret (shown only now): {secret}");
            if let Some(until) = e.previous_secret_expires_at {
                println!("the previous secret signs too until {}", until.format("%Y-%m-%d %H:%M UTC"));
            }
        }
        WebhooksCommand::Deliveries { id, account, page } => {
            let (rows, total) = webhooks::deliveries(t, scope(t, account.as_deref()).await?, id, page).await.map_err(fail)?;
            println!("{total} deliveries");
            for d in rows {
                println!(
                    "{}  {}  {}  #{}  {}  attempts {}  {}  {}",
                    d.id,
                    d.created_at.format("%Y-%m-%d %H:%M:%S"),
                    d.event_type,
                    d.event_seq,
                    d.status,
                    d.attempts,
                    d.response_status.map_or("-".into(), |s| s.to_string()),
                    d.error.unwrap_or_default()
                );
            }
        }
        WebhooksCommand::Replay { id, delivery, account } => {
            let new = webhooks::replay(t, &actor, scope(t, account.as_deref()).await?, id, delivery, Utc::now()).await.map_err(fail)?;
            println!("replay queued as delivery {new}");
        }
        WebhooksCommand::Listen { listen, secret } => {
            let secrets = match secret {
                Some(s) => vec![signing::parse_secret(&s).context("--secret is not a whsec_… secret")?],
                None => {
                    let rows = tollgate::db::webhook_endpoints::with_url_prefix(&t.pool, &format!("http://{listen}/")).await?;
                    anyhow::ensure!(!rows.is_empty(), "no endpoint points to http://{listen}/: add one, or give --secret");
                    rows.into_iter().flat_map(|r| std::iter::once(r.secret).chain(r.previous_secret)).collect()
                }
            };
            listen_on(listen, secrets).await?;
        }
    }
    Ok(())
}

/// Serves POST on any path: 204 for a verified delivery, 400 otherwise.
async fn listen_on(addr: SocketAddr, secrets: Vec<Vec<u8>>) -> anyhow::Result<()> {
    let secrets = Arc::new(secrets);
    let app = axum::Router::new().fallback(axum::routing::post(move |headers: HeaderMap, body: Bytes| {
        let secrets = Arc::clone(&secrets);
        async move { receive(&secrets, &headers, &body) }
    }));
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    println!("listening for webhooks on http://{addr}/");
    axum::serve(listener, app).await?;
    Ok(())
}

fn receive(secrets: &[Vec<u8>], headers: &HeaderMap, body: &[u8]) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (id, timestamp, signature) = (header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"));
    let keys: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
    let now = Utc::now();
    let verified = timestamp
        .parse::<i64>()
        .is_ok_and(|ts| signing::verify(&keys, id, ts, body, signature, now.timestamp()));
    let event: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let created = event["created_at"].as_str().and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok());
    let latency = created.map(|c| (now - c.with_timezone(&Utc)).num_milliseconds());
    // The type comes from the sender; printed through Debug so it cannot forge lines.
    println!(
        "{} {:?} {} sequence {} {} {}",
        now.format("%H:%M:%S%.3f"),
        event["type"].as_str().unwrap_or("?"),
        id.chars().take(64).collect::<String>().escape_debug(),
        event["sequence"],
        if verified { "verified" } else { "SIGNATURE INVALID" },
        latency.map_or(String::new(), |l| format!("{l} ms after the change")),
    );
    if verified {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::BAD_REQUEST
    }
}

//! `stripe-double`: runs Tollgate's Stripe test double as a server (demo mode, manual testing).

use std::net::SocketAddr;

use clap::Parser;
use stripe_double::{Config, RetryPolicy};

/// Stripe test double: Stripe's v1 wire format, in memory, with signed webhooks.
#[derive(Debug, Parser)]
#[command(name = "stripe-double", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "STRIPE_DOUBLE_LISTEN", default_value = "127.0.0.1:12111")]
    listen: SocketAddr,
    /// Secret key clients must send (`Authorization: Bearer …`).
    #[arg(long, env = "STRIPE_DOUBLE_API_KEY", default_value = "sk_test_double")]
    api_key: String,
    /// URL receiving every event as a signed webhook.
    #[arg(long, env = "STRIPE_DOUBLE_WEBHOOK_URL")]
    webhook_url: Option<String>,
    /// Signing secret of that webhook endpoint.
    #[arg(
        long,
        env = "STRIPE_DOUBLE_WEBHOOK_SECRET",
        default_value = "whsec_double"
    )]
    webhook_secret: String,
    /// Base URL of the hosted pages as browsers reach them (default: http://<listen>).
    #[arg(long, env = "STRIPE_DOUBLE_PUBLIC_URL")]
    public_url: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let config = Config {
        api_key: args.api_key,
        listen: args.listen,
        webhook_url: args.webhook_url,
        webhook_secret: args.webhook_secret,
        public_url: args.public_url,
        retry: RetryPolicy::default(),
        ..Config::default()
    };
    let webhook = config.webhook_url.clone();
    let double = stripe_double::spawn(config).await?;
    tracing::info!(api = %double.base_url(), webhook = ?webhook, "stripe double ready; Ctrl-C stops it");
    tokio::signal::ctrl_c().await?;
    tracing::info!("stopping");
    Ok(())
}

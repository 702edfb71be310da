//! Configuration: defaults, then an optional TOML file (`--config`, or
//! `tollgate.toml` in the working directory if present), then `TOLLGATE_*`
//! environment variables, then `DATABASE_URL`. The effective configuration is logged
//! at start with secrets masked.

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;
use tollgate::service::mail::{Mailer, SmtpSettings, TlsMode, WorkerSettings};
use tollgate::service::stripe::{Stripe, StripeSettings};

/// Everything the operator can set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// PostgreSQL URL (`postgres://user:password@host:port/db`).
    pub database_url: String,
    /// Pool size per process.
    pub db_max_connections: u32,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Public base URL; defaults to `http://<listen>`.
    pub public_url: Option<String>,
    /// Where "contact sales" goes.
    pub sales_email: String,
    /// Send the session cookie over HTTPS only (set behind TLS).
    pub cookie_secure: bool,
    /// Built site (CSS, WASM) directory.
    pub site_root: String,
    /// SMTP server host; unset (the default) logs e-mail at INFO instead of sending
    /// it (development and the demo).
    pub smtp_host: Option<String>,
    /// SMTP port; defaults to 25, 587 or 465 by `smtp_tls`.
    pub smtp_port: Option<u16>,
    /// SMTP user name for `AUTH`, if the server wants one.
    pub smtp_username: Option<String>,
    /// SMTP password (masked in the logged configuration).
    pub smtp_password: Option<String>,
    /// `none` (plain), `starttls` (required upgrade, the default) or `tls` (SMTPS).
    pub smtp_tls: TlsMode,
    /// Sender of every e-mail (`Name <address>` or an address).
    pub mail_from: String,
    /// Attempts before an e-mail is given up (`failed` in the outbox).
    pub mail_max_attempts: u32,
    /// Stripe secret key (`sk_…`, masked in the log); unset bills every subscription
    /// through the manual provider.
    pub stripe_secret_key: Option<String>,
    /// Signing secret of the Stripe webhook endpoint `/webhooks/stripe` (`whsec_…`,
    /// masked in the log); required with `stripe_secret_key`.
    pub stripe_webhook_secret: Option<String>,
    /// Stripe API base URL; unset is Stripe itself. Tests and the demo point it at the
    /// Stripe test double.
    pub stripe_api_base: Option<String>,
    /// Days a past-due Stripe subscription keeps its plan (dunning grace) before the
    /// renewal prompt applies.
    pub stripe_dunning_grace_days: u32,
    /// Log-in, sign-up, password-reset and mail-sending form posts allowed per client
    /// address per minute (per address and e-mail: half as many); see `guard.rs`.
    pub auth_attempts_per_minute: u32,
    /// Bearer token `/metrics` requires (masked in the log); unset, `/metrics`
    /// answers loopback clients only.
    pub metrics_token: Option<String>,
    /// Months of raw usage events kept before the current one (14 to 1200); unset
    /// (the default) keeps every event. Older months' partitions are dropped whole;
    /// period totals and invoices stay. See `tollgate::service::usage_retention`.
    pub usage_retention_months: Option<u32>,
    /// Origins whose pages may frame the embeddable widgets, comma-separated
    /// (`https://app.example.com,https://staging.example.com`); unset, none may
    /// (`POST /api/v1/embed_tokens` refuses every origin).
    pub embed_origins: Option<String>,
    /// Whether webhook endpoints may be loopback, private or link-local addresses
    /// (`TOLLGATE_WEBHOOK_ALLOW_PRIVATE_TARGETS=true`; tests and the demo). Off,
    /// such URLs are refused when saved and such addresses when a name resolves.
    pub webhook_allow_private_targets: bool,
    /// The longest one webhook delivery may take, in seconds (1 to 60).
    pub webhook_timeout_seconds: u64,
    /// Webhook deliveries one server process sends at once (1 to 256).
    pub webhook_concurrency: usize,
    /// Days from a manual invoice's due date its reminders go, comma-separated
    /// (negative: before it; `-3,1,7`); empty: none.
    pub invoice_reminder_days: String,
    /// Days after the due date an unpaid manual invoice makes its subscription
    /// past due (with `stripe_dunning_grace_days` of grace).
    pub invoice_past_due_after_days: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "postgres://localhost/tollgate".into(),
            db_max_connections: 20,
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_url: None,
            sales_email: "sales@example.com".into(),
            cookie_secure: false,
            site_root: "target/site".into(),
            smtp_host: None,
            smtp_port: None,
            smtp_username: None,
            smtp_password: None,
            smtp_tls: TlsMode::default(),
            mail_from: "Tollgate <no-reply@tollgate.localhost>".into(),
            mail_max_attempts: WorkerSettings::default().max_attempts,
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            stripe_api_base: None,
            stripe_dunning_grace_days: 7,
            auth_attempts_per_minute: 10,
            metrics_token: None,
            usage_retention_months: None,
            embed_origins: None,
            webhook_allow_private_targets: false,
            webhook_timeout_seconds: 10,
            webhook_concurrency: 16,
            invoice_reminder_days: "-3,1,7".into(),
            invoice_past_due_after_days: 14,
        }
    }
}

impl Config {
    /// Reads the configuration.
    ///
    /// # Errors
    /// A missing explicit file, or a value of the wrong type (named in the message).
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                anyhow::ensure!(
                    path.exists(),
                    "configuration file {} does not exist",
                    path.display()
                );
                figment = figment.merge(Toml::file(path));
            }
            None if Path::new("tollgate.toml").exists() => {
                figment = figment.merge(Toml::file("tollgate.toml"))
            }
            None => {}
        }
        figment = figment
            .merge(Env::prefixed("TOLLGATE_").ignore(&["CONFIG", "PG_PORT", "TARGET_DIR"]))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(
                Env::raw()
                    .only(&["LEPTOS_SITE_ROOT"])
                    .map(|_| "site_root".into()),
            );
        figment.extract().context("invalid configuration")
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_string()
    }

    /// The configuration as it may be logged: the database and SMTP passwords masked.
    pub fn masked(&self) -> Config {
        Config {
            database_url: mask_url_password(&self.database_url),
            smtp_password: self.smtp_password.as_ref().map(|_| "***".into()),
            stripe_secret_key: self.stripe_secret_key.as_ref().map(|_| "***".into()),
            stripe_webhook_secret: self.stripe_webhook_secret.as_ref().map(|_| "***".into()),
            metrics_token: self.metrics_token.as_ref().map(|_| "***".into()),
            ..self.clone()
        }
    }

    /// The mailer: SMTP when `smtp_host` is set, else the log.
    ///
    /// # Errors
    /// A malformed `mail_from`, or a host unusable for TLS.
    pub fn mailer(&self) -> anyhow::Result<Mailer> {
        let mailer = match &self.smtp_host {
            Some(host) => Mailer::smtp(
                &self.mail_from,
                &SmtpSettings {
                    host: host.clone(),
                    port: self.smtp_port,
                    username: self.smtp_username.clone(),
                    password: self.smtp_password.clone(),
                    tls: self.smtp_tls,
                    timeout: std::time::Duration::from_secs(30),
                },
            ),
            None => Mailer::log(&self.mail_from),
        };
        mailer.context("invalid e-mail configuration")
    }

    /// The Stripe provider, when a secret key is set.
    ///
    /// # Errors
    /// A key without a webhook secret (or the reverse), or settings the client
    /// refuses.
    pub fn stripe(&self) -> anyhow::Result<Option<Stripe>> {
        match (&self.stripe_secret_key, &self.stripe_webhook_secret) {
            (None, None) => Ok(None),
            (Some(key), Some(secret)) => {
                let settings = StripeSettings {
                    secret_key: key.clone(),
                    webhook_secret: secret.clone(),
                    api_base: self.stripe_api_base.clone(),
                    dunning_grace_days: self.stripe_dunning_grace_days,
                };
                Ok(Some(
                    Stripe::new(&settings).context("invalid Stripe configuration")?,
                ))
            }
            (Some(_), None) => anyhow::bail!(
                "stripe_secret_key is set but stripe_webhook_secret is not: both are needed"
            ),
            (None, Some(_)) => anyhow::bail!(
                "stripe_webhook_secret is set but stripe_secret_key is not: both are needed"
            ),
        }
    }

    /// When manual invoices are chased.
    ///
    /// # Errors
    /// A reminder day that is not one, or a past-due step out of 1 to 365 days.
    pub fn dunning(&self) -> anyhow::Result<tollgate::service::invoices::dunning::Schedule> {
        anyhow::ensure!((1..=365).contains(&self.invoice_past_due_after_days), "invoice_past_due_after_days must be 1 to 365");
        tollgate::service::invoices::dunning::Schedule::parse(
            &self.invoice_reminder_days,
            self.invoice_past_due_after_days,
            self.stripe_dunning_grace_days,
        )
        .map_err(|e| anyhow::anyhow!("invoice_reminder_days: {e}"))
    }

    /// How outgoing webhooks behave.
    ///
    /// # Errors
    /// A timeout or concurrency out of range.
    pub fn webhooks(&self) -> anyhow::Result<tollgate::service::webhooks::WebhookSettings> {
        anyhow::ensure!((1..=60).contains(&self.webhook_timeout_seconds), "webhook_timeout_seconds must be 1 to 60");
        anyhow::ensure!((1..=256).contains(&self.webhook_concurrency), "webhook_concurrency must be 1 to 256");
        Ok(tollgate::service::webhooks::WebhookSettings {
            allow_private_targets: self.webhook_allow_private_targets,
            timeout: std::time::Duration::from_secs(self.webhook_timeout_seconds),
            concurrency: self.webhook_concurrency,
        })
    }

    /// The origins that may frame the widgets ([`Config::embed_origins`]), each as
    /// browsers send it.
    ///
    /// # Errors
    /// An entry that is not an origin (`scheme://host[:port]`), named.
    pub fn embed_origins(&self) -> anyhow::Result<Vec<String>> {
        self.embed_origins
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| tollgate::embed::parse_origin(s).map_err(|e| anyhow::anyhow!("embed_origins: {e}")))
            .collect()
    }

    /// How long raw usage events are kept; `None` keeps every event.
    ///
    /// # Errors
    /// `usage_retention_months` outside 14 to 1200 (the message gives the bounds).
    pub fn usage_retention(
        &self,
    ) -> anyhow::Result<Option<tollgate::service::usage_retention::Retention>> {
        self.usage_retention_months
            .map(tollgate::service::usage_retention::Retention::parse)
            .transpose()
            .map_err(anyhow::Error::msg)
    }

    /// The outbox worker's pacing.
    pub fn mail_worker(&self) -> WorkerSettings {
        WorkerSettings {
            max_attempts: self.mail_max_attempts.max(1),
            ..WorkerSettings::default()
        }
    }
}

/// Replaces a URL's password with `***`: in the user-info and in a `password=`
/// query parameter (libpq accepts both).
pub fn mask_url_password(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match base
        .split_once("://")
        .and_then(|(scheme, rest)| rest.rsplit_once('@').map(|(ui, host)| (scheme, ui, host)))
    {
        Some((scheme, userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => base.to_string(),
        },
        None => base.to_string(),
    };
    match query {
        None => base,
        Some(q) => {
            let masked: Vec<String> = q
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{base}?{}", masked.join("&"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_url_password("postgres://u:s3cr3t@db:5432/t"),
            "postgres://u:***@db:5432/t"
        );
        assert_eq!(mask_url_password("postgres://u@db/t"), "postgres://u@db/t");
        assert_eq!(
            mask_url_password("postgres://u:p@ss@db/t"),
            "postgres://u:***@db/t"
        );
        assert_eq!(
            mask_url_password("postgres://db/t?user=u&password=s3cr3t&sslmode=require"),
            "postgres://db/t?user=u&password=***&sslmode=require"
        );
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure signature
    fn env_overrides_file_and_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "listen = \"127.0.0.1:4000\"\nsales_email = \"file@example.com\"",
            )?;
            jail.set_env("TOLLGATE_SALES_EMAIL", "env@example.com");
            jail.set_env("DATABASE_URL", "postgres://x:y@h/d");
            let c = Config::load(Some(Path::new("t.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.listen.port(), 4000);
            assert_eq!(c.sales_email, "env@example.com");
            assert_eq!(c.masked().database_url, "postgres://x:***@h/d");
            assert_eq!(c.public_url(), "http://127.0.0.1:4000");
            assert!(c.smtp_host.is_none() && c.mailer().expect("log mailer").is_log());
            jail.set_env("TOLLGATE_SMTP_HOST", "smtp.example.com");
            jail.set_env("TOLLGATE_SMTP_PORT", "2525");
            jail.set_env("TOLLGATE_SMTP_TLS", "none");
            jail.set_env("TOLLGATE_SMTP_USERNAME", "mailer");
            jail.set_env("TOLLGATE_SMTP_PASSWORD", "s3cr3t");
            let c = Config::load(Some(Path::new("t.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(
                (c.smtp_host.as_deref(), c.smtp_port, c.smtp_tls),
                (Some("smtp.example.com"), Some(2525), TlsMode::None)
            );
            assert_eq!(c.masked().smtp_password.as_deref(), Some("***"));
            assert!(!format!("{:?}", c.masked()).contains("s3cr3t"));
            assert!(!c.mailer().expect("smtp mailer").is_log());
            jail.set_env("TOLLGATE_SMTP_TLS", "ssl");
            assert!(Config::load(None).is_err(), "unknown TLS mode is refused");
            jail.set_env("TOLLGATE_SMTP_TLS", "tls");
            jail.set_env("TOLLGATE_MAIL_FROM", "not an address");
            assert!(Config::load(None).expect("loads").mailer().is_err());
            jail.set_env("TOLLGATE_LISTEN", "not an address");
            assert!(Config::load(None).is_err());
            jail.set_env("TOLLGATE_LISTEN", "127.0.0.1:4000");
            assert_eq!(
                Config::load(None).expect("loads").usage_retention().ok(),
                Some(None)
            );
            jail.set_env("TOLLGATE_USAGE_RETENTION_MONTHS", "24");
            let kept = Config::load(None).expect("loads").usage_retention();
            assert_eq!(kept.expect("valid").map(|r| r.months()), Some(24));
            jail.set_env("TOLLGATE_USAGE_RETENTION_MONTHS", "6");
            let short = Config::load(None).expect("loads").usage_retention();
            assert!(short
                .unwrap_err()
                .to_string()
                .contains("between 14 and 1200"));
            Ok(())
        });
    }
}

//! Use cases: what the pages' server functions and the `/api/v1` handlers call.
//! Each function validates, runs its SQL through [`crate::db`] in one transaction,
//! writes the audit log for changes, and returns domain values.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod catalog;
pub mod check;
pub mod coupons;
pub mod email_verification;
pub mod embed;
pub mod ingest;
pub mod ingest_queue;
pub mod invoice_pdf;
pub mod invoices;
pub mod jobs;
pub mod keys;
pub mod link_token;
pub mod live;
pub mod mail;
pub mod notifications;
pub mod organizations;
pub mod password_reset;
pub mod plans;
pub mod provider;
mod retry;
pub mod state_cache;
pub mod stripe;
pub mod usage;
pub mod usage_corrections;
pub mod usage_history;
pub mod usage_reports;
pub mod usage_retention;
pub mod webhooks;

use sqlx::PgPool;
use std::sync::Arc;

pub use crate::db::audit::Actor;

/// Settings the services need from the operator's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public base URL of the portal, without a trailing slash
    /// (`http://127.0.0.1:3000`); used in `upgrade_url` and e-mails.
    pub public_url: String,
    /// Where "contact sales" goes.
    pub sales_email: String,
    /// Cookies are sent over HTTPS only.
    pub cookie_secure: bool,
}

/// Everything a request needs: the pool, the cached catalog, live fan-out and
/// settings. Cheap to clone.
#[derive(Clone)]
pub struct Tollgate {
    /// The PostgreSQL pool.
    pub pool: PgPool,
    /// The active catalog, kept fresh by [`live::listen`].
    pub catalog: catalog::CatalogStore,
    /// Usage-change fan-out to this process's live meters.
    pub live: live::LiveHub,
    /// Every subscribed account's meters, for the admin panel (kept current by
    /// [`admin::usage_board::maintain`]).
    pub board: Arc<admin::usage_board::UsageBoard>,
    /// Operator settings.
    pub settings: Arc<Settings>,
    /// The Stripe provider when a secret key is configured; `None` bills every
    /// subscription through the manual provider.
    pub stripe: Option<Arc<stripe::Stripe>>,
    /// API keys and accounts' standing for the API's hot paths, kept exact by
    /// [`live::listen`] (disabled while it does not listen).
    pub cache: state_cache::StateCache,
    /// Group commit of small event batches ([`ingest_queue`]).
    pub ingest_queue: Arc<ingest_queue::IngestQueue>,
    /// The key embed tokens are signed with, read once ([`embed::key`]).
    pub embed_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
    /// How outgoing webhooks behave ([`webhooks`]).
    pub webhooks: Arc<webhooks::WebhookSettings>,
    /// When manual invoices are chased ([`invoices::dunning`]).
    pub dunning: Arc<invoices::dunning::Schedule>,
}

impl Tollgate {
    /// Builds the handle and reads the catalog once.
    ///
    /// # Errors
    /// A database error while reading the catalog.
    pub async fn new(pool: PgPool, settings: Settings) -> Result<Self, Error> {
        let catalog = catalog::CatalogStore::default();
        catalog.refresh(&pool).await?;
        Ok(Tollgate {
            pool,
            catalog,
            live: live::LiveHub::new(),
            board: Arc::default(),
            settings: Arc::new(settings),
            stripe: None,
            cache: state_cache::StateCache::default(),
            ingest_queue: Arc::default(),
            embed_key: Arc::default(),
            webhooks: Arc::default(),
            dunning: Arc::default(),
        })
    }

    /// The same handle with this dunning schedule for manual invoices.
    pub fn with_dunning(self, schedule: invoices::dunning::Schedule) -> Self {
        Tollgate {
            dunning: Arc::new(schedule),
            ..self
        }
    }

    /// The same handle with these webhook settings.
    pub fn with_webhooks(self, settings: webhooks::WebhookSettings) -> Self {
        Tollgate {
            webhooks: Arc::new(settings),
            ..self
        }
    }

    /// The same handle with the Stripe provider configured.
    pub fn with_stripe(self, stripe: stripe::Stripe) -> Self {
        Tollgate {
            stripe: Some(Arc::new(stripe)),
            ..self
        }
    }

    /// The product's name for e-mails and documents: the loaded catalog's title,
    /// else "Tollgate".
    pub fn product_name(&self) -> String {
        self.catalog.get().map_or_else(|_| "Tollgate".to_owned(), |c| c.title.clone())
    }

    /// The pricing page's address, for upgrade prompts.
    pub fn upgrade_url(&self) -> String {
        format!("{}/pricing", self.settings.public_url)
    }
}

/// Why a use case refused or failed. The API maps these to its error codes
/// (API.md "Errors") and the pages to form errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input; `field` names it, `index` the event of a batch.
    #[error("{message}")]
    Invalid {
        field: String,
        message: String,
        index: Option<usize>,
    },
    /// No such thing, or not visible to the caller.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Not signed in, or an unknown/revoked key.
    #[error("authentication required")]
    Unauthorized,
    /// The state does not allow it (e-mail taken, already on that plan).
    #[error("{0}")]
    Conflict(String),
    /// An idempotency key was reused with another payload.
    #[error("idempotency key `{key}` was already used with a different payload")]
    IdempotencyConflict { key: String, index: Option<usize> },
    /// Too many attempts or calls; retry after `retry_after` seconds.
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// A consuming check that a hard limit refuses.
    #[error("the plan's limit on `{}` is reached", .0.feature)]
    PlanLimitExceeded(Box<check::MeterCheck>),
    /// No catalog has been loaded yet (`tollgate catalog load`).
    #[error("no catalog is loaded; run `tollgate catalog load <file>`")]
    NoCatalog,
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Something that should not happen (a hashing failure, …).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// An [`Error::Invalid`] for `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
            index: None,
        }
    }

    /// An [`Error::Invalid`] for `field` of the batch's event `index`.
    pub fn invalid_at(index: usize, field: &str, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
            index: Some(index),
        }
    }
}

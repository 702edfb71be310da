//! Outgoing webhooks (issue 14; API.md `/api/v1/webhook_endpoints`; PRODUCT.md
//! `/settings/webhooks`, `/admin/webhooks`): endpoints kept by the operator
//! (platform-wide) or by an account's owner and admins (that account's events);
//! events written with the change that causes them ([`emit`], and the audit log's
//! trigger of migration 0027); a worker that signs ([`signing`]) and delivers them
//! ([`deliver`]) with retries; the delivery log with replay.

pub mod deliver;
pub mod emit;
pub mod signing;

use super::accounts::{self, Role};
use super::keys::Caller;
use super::{Actor, Error, Tollgate};
use crate::db::{self, webhook_attempts::AttemptRow, webhook_deliveries::LogRow, webhook_endpoints::EndpointRow};
use crate::webhook::{parse_event_types, EndpointUrl, EventType, UrlRefused, ROTATION_OVERLAP};
use chrono::{DateTime, Utc};
use std::time::Duration;
use uuid::Uuid;

/// Endpoints one owner may have.
pub const MAX_ENDPOINTS: i64 = 20;

/// Deliveries per page of the log.
pub const LOG_PAGE: i64 = 25;

/// How outgoing webhooks behave (the operator's configuration).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Whether endpoints may be loopback, private or link-local addresses
    /// (`webhook_allow_private_targets`; tests and the demo).
    pub allow_private_targets: bool,
    /// The longest a delivery may take, connection to the last byte read.
    pub timeout: Duration,
    /// Deliveries sent at once by one worker.
    pub concurrency: usize,
}

impl Default for WebhookSettings {
    /// Public targets only, 10 s, 16 at once.
    fn default() -> Self {
        WebhookSettings {
            allow_private_targets: false,
            timeout: Duration::from_secs(10),
            concurrency: 16,
        }
    }
}

/// Whose endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The operator's: every account's events.
    Platform,
    /// One account's: its events only.
    Account(Uuid),
}

impl Scope {
    /// The account, for the platform `None`.
    pub fn account_id(self) -> Option<Uuid> {
        match self {
            Scope::Platform => None,
            Scope::Account(a) => Some(a),
        }
    }
}

/// The scope a signed-in user manages: `account_id`'s endpoints for its owner and
/// admins, the platform's (`None`) for super admins.
///
/// # Errors
/// [`Error::Forbidden`] otherwise.
pub async fn scope_for_user(t: &Tollgate, actor: &Actor, account_id: Option<Uuid>) -> Result<Scope, Error> {
    match account_id {
        None => {
            super::admin::require_super_admin(&t.pool, actor).await?;
            Ok(Scope::Platform)
        }
        Some(account_id) => {
            let user = actor.user_id().ok_or(Error::Unauthorized)?;
            accounts::require_role(&t.pool, account_id, user, Role::Admin).await?;
            Ok(Scope::Account(account_id))
        }
    }
}

/// The scope an API key manages: a platform key the platform's endpoints, or the
/// `named` account's; an account key its own account's (API.md).
///
/// # Errors
/// The account's errors ([`accounts::resolve_for_caller`]).
pub async fn scope_for_caller(t: &Tollgate, caller: &Caller, named: Option<&str>) -> Result<Scope, Error> {
    match (caller, named) {
        (Caller::Platform { .. }, None) => Ok(Scope::Platform),
        _ => Ok(Scope::Account(accounts::resolve_for_caller(&t.pool, caller, named).await?)),
    }
}

/// An endpoint as shown (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: Uuid,
    /// `None`: platform-wide.
    pub account_id: Option<Uuid>,
    pub url: String,
    pub description: String,
    /// Wanted types, sorted; empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// `manual` or `failing` while disabled.
    pub disabled_reason: Option<String>,
    /// Failing every attempt since (UTC); disabled after 3 days.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret still signs (after a rotation).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<EndpointRow> for Endpoint {
    fn from(r: EndpointRow) -> Self {
        Endpoint {
            id: r.id,
            account_id: r.account_id,
            url: r.url,
            description: r.description,
            event_types: r.event_types,
            enabled: r.enabled,
            disabled_reason: r.disabled_reason,
            failing_since: r.failing_since,
            previous_secret_expires_at: r.previous_secret_expires_at,
            created_at: r.created_at,
        }
    }
}

/// What a person or key sets on an endpoint; `None` keeps the current value (on
/// creation: no description, every event type, enabled).
#[derive(Debug, Clone, Default)]
pub struct EndpointInput {
    pub url: Option<String>,
    pub description: Option<String>,
    /// Names of [`EventType`]s; empty: every type.
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// A new endpoint and its secret, shown this once.
#[derive(Debug, Clone)]
pub struct Created {
    pub endpoint: Endpoint,
    /// `whsec_…`.
    pub secret: String,
}

fn url_error(e: UrlRefused) -> Error {
    let hint = match e {
        UrlRefused::Private => " (the operator allows them with webhook_allow_private_targets)",
        _ => "",
    };
    Error::invalid("url", format!("The URL {e}{hint}."))
}

fn parse_url(t: &Tollgate, url: &str) -> Result<String, Error> {
    EndpointUrl::parse(url, t.webhooks.allow_private_targets)
        .map(|u| u.as_str().to_owned())
        .map_err(url_error)
}

fn parse_description(d: &str) -> Result<String, Error> {
    let d = d.trim();
    if d.chars().count() > 200 || d.chars().any(char::is_control) {
        return Err(Error::invalid("description", "The description is one line of at most 200 characters."));
    }
    Ok(d.to_owned())
}

fn parse_types(names: &[String]) -> Result<Vec<String>, Error> {
    let types = parse_event_types(names).map_err(|e| Error::invalid("event_types", format!("{e}; known types: {}", known_types())))?;
    Ok(types.into_iter().map(|t| t.as_str().to_owned()).collect())
}

fn known_types() -> String {
    EventType::ALL.map(EventType::as_str).join(", ")
}

async fn audit(
    conn: &mut sqlx::PgConnection,
    actor: &Actor,
    action: &str,
    endpoint: &EndpointRow,
    details: serde_json::Value,
) -> Result<(), Error> {
    db::audit::record(
        conn,
        &db::audit::Entry {
            actor,
            action,
            target_kind: "webhook_endpoint",
            target_id: endpoint.id.to_string(),
            account_id: endpoint.account_id,
            ip: None,
            details,
        },
    )
    .await?;
    Ok(())
}

/// Adds an endpoint to `scope`.
///
/// # Errors
/// [`Error::Forbidden`] while impersonating (a signing secret and a destination
/// for the account's data are credentials, as API keys are);
/// [`Error::Invalid`] for a bad `url` (malformed, with credentials, or private
/// while those are not allowed), `description` or `event_types`;
/// [`Error::Conflict`] past [`MAX_ENDPOINTS`].
pub async fn create(t: &Tollgate, actor: &Actor, scope: Scope, input: &EndpointInput) -> Result<Created, Error> {
    super::keys::refuse_impersonated(actor, "add a webhook endpoint")?;
    let url = parse_url(t, input.url.as_deref().unwrap_or_default())?;
    let description = parse_description(input.description.as_deref().unwrap_or_default())?;
    let types = parse_types(input.event_types.as_deref().unwrap_or_default())?;
    let secret = signing::new_secret();
    let mut tx = t.pool.begin().await?;
    if let Some(account_id) = scope.account_id() {
        // One creation at a time per account, so the cap holds.
        db::memberships::lock_account(&mut *tx, account_id).await?;
    }
    if db::webhook_endpoints::count(&mut *tx, scope.account_id()).await? >= MAX_ENDPOINTS {
        return Err(Error::Conflict(format!("At most {MAX_ENDPOINTS} webhook endpoints; remove one first.")));
    }
    let row = db::webhook_endpoints::insert(
        &mut *tx,
        &db::webhook_endpoints::NewEndpoint {
            id: Uuid::now_v7(),
            account_id: scope.account_id(),
            url: &url,
            description: &description,
            event_types: &types,
            secret: &secret,
        },
    )
    .await?;
    audit(&mut tx, actor, "webhook_endpoint.created", &row, serde_json::json!({ "url": row.url, "event_types": row.event_types })).await?;
    tx.commit().await?;
    Ok(Created {
        endpoint: row.into(),
        secret: signing::secret_text(&secret),
    })
}

/// The endpoints of `scope`, oldest first.
///
/// # Errors
/// A database error.
pub async fn list(t: &Tollgate, scope: Scope) -> Result<Vec<Endpoint>, Error> {
    let rows = db::webhook_endpoints::list(&t.pool, scope.account_id(), MAX_ENDPOINTS).await?;
    Ok(rows.into_iter().map(Endpoint::from).collect())
}

fn not_found() -> Error {
    Error::NotFound("There is no such webhook endpoint.".into())
}

/// The endpoint `id` of `scope`.
///
/// # Errors
/// [`Error::NotFound`] for one of another scope or none.
pub async fn get(t: &Tollgate, scope: Scope, id: Uuid) -> Result<Endpoint, Error> {
    db::webhook_endpoints::get(&t.pool, id, scope.account_id())
        .await?
        .map(Endpoint::from)
        .ok_or_else(not_found)
}

/// Changes what `input` sets. Enabling an endpoint disabled for failing starts
/// its deliveries afresh.
///
/// # Errors
/// As [`create`] (a new URL is refused while impersonating); [`Error::NotFound`]
/// as [`get`].
pub async fn update(t: &Tollgate, actor: &Actor, scope: Scope, id: Uuid, input: &EndpointInput) -> Result<Endpoint, Error> {
    if input.url.is_some() {
        super::keys::refuse_impersonated(actor, "point a webhook endpoint elsewhere")?;
    }
    let url = input.url.as_deref().map(|u| parse_url(t, u)).transpose()?;
    let description = input.description.as_deref().map(parse_description).transpose()?;
    let types = input.event_types.as_deref().map(parse_types).transpose()?;
    let mut tx = t.pool.begin().await?;
    let before = db::webhook_endpoints::get_for_update(&mut *tx, id, scope.account_id())
        .await?
        .ok_or_else(not_found)?;
    let after = db::webhook_endpoints::update(
        &mut *tx,
        id,
        url.as_deref().unwrap_or(&before.url),
        description.as_deref().unwrap_or(&before.description),
        types.as_deref().unwrap_or(&before.event_types),
        input.enabled.unwrap_or(before.enabled),
    )
    .await?;
    audit(
        &mut tx,
        actor,
        "webhook_endpoint.updated",
        &after,
        serde_json::json!({
            "url": [before.url, after.url.clone()], "event_types": [before.event_types, after.event_types.clone()],
            "enabled": [before.enabled, after.enabled], "description": after.description,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(after.into())
}

/// Removes an endpoint with its delivery log.
///
/// # Errors
/// [`Error::NotFound`] as [`get`].
pub async fn delete(t: &Tollgate, actor: &Actor, scope: Scope, id: Uuid) -> Result<(), Error> {
    let mut tx = t.pool.begin().await?;
    let row = db::webhook_endpoints::get_for_update(&mut *tx, id, scope.account_id())
        .await?
        .ok_or_else(not_found)?;
    db::webhook_endpoints::delete(&mut *tx, id).await?;
    audit(&mut tx, actor, "webhook_endpoint.deleted", &row, serde_json::json!({ "url": row.url })).await?;
    tx.commit().await?;
    Ok(())
}

/// A new secret for the endpoint, shown this once; the previous one keeps signing
/// (deliveries carry both signatures) for [`ROTATION_OVERLAP`] after `now`, so
/// the receiver can switch without losing a delivery.
///
/// # Errors
/// [`Error::Forbidden`] while impersonating; [`Error::NotFound`] as [`get`].
pub async fn rotate_secret(t: &Tollgate, actor: &Actor, scope: Scope, id: Uuid, now: DateTime<Utc>) -> Result<(Endpoint, String), Error> {
    super::keys::refuse_impersonated(actor, "see a webhook signing secret")?;
    let secret = signing::new_secret();
    let until = now + chrono::Duration::from_std(ROTATION_OVERLAP).unwrap_or_default();
    let mut tx = t.pool.begin().await?;
    db::webhook_endpoints::get_for_update(&mut *tx, id, scope.account_id())
        .await?
        .ok_or_else(not_found)?;
    let row = db::webhook_endpoints::rotate_secret(&mut *tx, id, &secret, until).await?;
    audit(&mut tx, actor, "webhook_endpoint.secret_rotated", &row, serde_json::json!({ "previous_secret_expires_at": until })).await?;
    tx.commit().await?;
    Ok((row.into(), signing::secret_text(&secret)))
}

/// A page (from 0) of the endpoint's delivery log, newest first, with the total.
///
/// # Errors
/// [`Error::NotFound`] as [`get`].
pub async fn deliveries(t: &Tollgate, scope: Scope, id: Uuid, page: u32) -> Result<(Vec<LogRow>, i64), Error> {
    get(t, scope, id).await?;
    let rows = db::webhook_deliveries::log(&t.pool, id, LOG_PAGE, i64::from(page.min(10_000)) * LOG_PAGE).await?;
    let total = db::webhook_deliveries::count(&t.pool, id).await?;
    Ok((rows, total))
}

/// One delivery in full: its log line, the request body as sent (the same bytes
/// on every attempt), and every attempt, oldest first.
#[derive(Debug, Clone)]
pub struct DeliveryDetail {
    pub delivery: LogRow,
    /// The JSON body POSTed.
    pub body: String,
    pub attempts: Vec<AttemptRow>,
}

/// Delivery `delivery_id` of the endpoint, in full.
///
/// # Errors
/// [`Error::NotFound`] as [`get`], or for a delivery of another endpoint.
pub async fn delivery(t: &Tollgate, scope: Scope, endpoint_id: Uuid, delivery_id: Uuid) -> Result<DeliveryDetail, Error> {
    get(t, scope, endpoint_id).await?;
    let missing = || Error::NotFound("There is no such delivery.".into());
    let line = db::webhook_deliveries::one(&t.pool, delivery_id, endpoint_id).await?.ok_or_else(missing)?;
    let event = db::webhook_events::by_ids(&t.pool, &[line.event_id]).await?.into_iter().next().ok_or_else(missing)?;
    let attempts = db::webhook_attempts::of_delivery(&t.pool, delivery_id).await?;
    Ok(DeliveryDetail {
        body: String::from_utf8_lossy(&deliver::body(&event)).into_owned(),
        delivery: line,
        attempts,
    })
}

/// Sends a delivery's event again, now, as a new delivery with the same
/// `webhook-id` (receivers drop repeats); returns the new delivery's id.
///
/// # Errors
/// [`Error::NotFound`] as [`get`], or for a delivery of another endpoint;
/// [`Error::Conflict`] while the endpoint is disabled.
pub async fn replay(t: &Tollgate, actor: &Actor, scope: Scope, endpoint_id: Uuid, delivery_id: Uuid, now: DateTime<Utc>) -> Result<Uuid, Error> {
    let mut tx = t.pool.begin().await?;
    let endpoint = db::webhook_endpoints::get_for_update(&mut *tx, endpoint_id, scope.account_id())
        .await?
        .ok_or_else(not_found)?;
    if !endpoint.enabled {
        return Err(Error::Conflict("The endpoint is disabled; enable it to replay deliveries.".into()));
    }
    let id = db::webhook_deliveries::replay(&mut *tx, delivery_id, endpoint_id, now)
        .await?
        .ok_or_else(|| Error::NotFound("There is no such delivery.".into()))?;
    audit(&mut tx, actor, "webhook_delivery.replayed", &endpoint, serde_json::json!({ "delivery": delivery_id, "replay": id })).await?;
    db::webhook_events::wake(&mut *tx).await?;
    tx.commit().await?;
    Ok(id)
}

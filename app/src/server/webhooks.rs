//! Webhook endpoints from `/settings/webhooks` (the account's, for its owner and
//! admins) and `/admin/webhooks` (the platform's, for super admins): thin over
//! [`tollgate::service::webhooks`]. Every function takes `admin` to say which,
//! and checks who asks before anything else.
//!
//! A new or rotated secret is returned once; after a plain form post it travels
//! back in the same one-time cookie as a new API key ([`super::keys::ssr`]).

use crate::error::AppError;
use crate::model::{NewApiKey, WebhookDeliveryPage, WebhookEndpointView};
use leptos::prelude::*;

/// The account's page.
pub const SETTINGS_PATH: &str = "/settings/webhooks";
/// The platform's page.
pub const ADMIN_PATH: &str = "/admin/webhooks";
/// Name of the one-time cookie carrying a new secret to a page without JavaScript.
pub const NEW_SECRET_COOKIE: &str = "tg_new_webhook_secret";

/// The page of `admin` or of the account.
pub fn page_path(admin: bool) -> &'static str {
    if admin {
        ADMIN_PATH
    } else {
        SETTINGS_PATH
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppError;
    use crate::server::ctx::{self, SignedIn};
    use tollgate::service::webhooks::{self, Scope};
    use tollgate::service::Tollgate;

    /// Who asks, and the endpoints they manage.
    pub async fn scope(admin: bool) -> Result<(Tollgate, SignedIn, Scope), AppError> {
        let me = if admin { ctx::require_super_admin().await? } else { ctx::require_signed_in().await? };
        let t = ctx::tollgate()?;
        let scope = webhooks::scope_for_user(&t, &me.actor(), (!admin).then_some(me.account_id)).await?;
        Ok((t, me, scope))
    }

    pub fn id(s: &str) -> Result<uuid::Uuid, AppError> {
        uuid::Uuid::parse_str(s).map_err(|_| AppError::NotFound("There is no such webhook endpoint.".into()))
    }
}

#[cfg(feature = "ssr")]
impl From<tollgate::service::webhooks::Endpoint> for WebhookEndpointView {
    fn from(e: tollgate::service::webhooks::Endpoint) -> Self {
        WebhookEndpointView {
            id: e.id,
            url: e.url,
            description: e.description,
            event_types: e.event_types,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since,
            previous_secret_expires_at: e.previous_secret_expires_at,
        }
    }
}

/// The endpoints, oldest first.
#[server(prefix = "/_fn", endpoint = "webhook_endpoints")]
pub async fn webhook_endpoints(admin: bool) -> Result<Vec<WebhookEndpointView>, AppError> {
    let (t, _, scope) = ssr::scope(admin).await?;
    let list = tollgate::service::webhooks::list(&t, scope).await?;
    Ok(list.into_iter().map(WebhookEndpointView::from).collect())
}

/// Adds an endpoint and returns its secret, once (`name` is the URL).
/// `event_types` empty or missing: every type.
#[server(prefix = "/_fn", endpoint = "webhook_endpoint_create")]
pub async fn create_webhook_endpoint(
    admin: bool,
    url: String,
    description: String,
    event_types: Option<Vec<String>>,
) -> Result<NewApiKey, AppError> {
    let (t, me, scope) = ssr::scope(admin).await?;
    let input = tollgate::service::webhooks::EndpointInput {
        url: Some(url.clone()),
        description: Some(description.clone()),
        event_types,
        enabled: None,
    };
    let created = tollgate::service::webhooks::create(&t, &me.actor(), scope, &input)
        .await
        .map_err(|e| AppError::from(e).with_values(&[("url", url.as_str()), ("description", description.as_str())]))?;
    let secret = NewApiKey {
        name: created.endpoint.url,
        secret: created.secret,
    };
    super::keys::ssr::hand_over(&t, &me.user, NEW_SECRET_COOKIE, page_path(admin), &secret);
    Ok(secret)
}

/// The secret a plain form post created or rotated, once.
#[server(prefix = "/_fn", endpoint = "webhook_secret_flash")]
pub async fn take_new_webhook_secret(admin: bool) -> Result<Option<NewApiKey>, AppError> {
    let (t, me, _) = ssr::scope(admin).await?;
    Ok(super::keys::ssr::take_over(&t, &me.user, NEW_SECRET_COOKIE, page_path(admin)))
}

/// Enables, disables, rotates the secret of, or deletes an endpoint (`change`:
/// `enable`, `disable`, `rotate`, `delete`), then goes back to the page. A plain
/// form post, with or without JavaScript; deleting follows a confirmation.
#[server(prefix = "/_fn", endpoint = "webhook_endpoint_change")]
pub async fn change_webhook_endpoint(admin: bool, id: String, change: String) -> Result<(), AppError> {
    use tollgate::service::webhooks;
    let (t, me, scope) = ssr::scope(admin).await?;
    let id = ssr::id(&id)?;
    let actor = me.actor();
    let back = page_path(admin);
    match change.as_str() {
        "enable" | "disable" => {
            let input = webhooks::EndpointInput {
                enabled: Some(change == "enable"),
                ..Default::default()
            };
            webhooks::update(&t, &actor, scope, id, &input).await?;
        }
        "rotate" => {
            let (endpoint, secret) = webhooks::rotate_secret(&t, &actor, scope, id, chrono::Utc::now()).await?;
            let secret = NewApiKey {
                name: endpoint.url,
                secret,
            };
            super::keys::ssr::hand_over(&t, &me.user, NEW_SECRET_COOKIE, back, &secret);
        }
        "delete" => webhooks::delete(&t, &actor, scope, id).await?,
        _ => return Err(AppError::NotFound("No such change.".into())),
    }
    leptos_axum::redirect(back);
    Ok(())
}

/// A page (from 0) of an endpoint's delivery log.
#[server(prefix = "/_fn", endpoint = "webhook_deliveries")]
pub async fn webhook_deliveries(admin: bool, id: String, page: u32) -> Result<WebhookDeliveryPage, AppError> {
    let (t, _, scope) = ssr::scope(admin).await?;
    let id = ssr::id(&id)?;
    let endpoint = tollgate::service::webhooks::get(&t, scope, id).await?;
    let (rows, total) = tollgate::service::webhooks::deliveries(&t, scope, id, page).await?;
    Ok(WebhookDeliveryPage {
        endpoint: endpoint.into(),
        deliveries: rows.into_iter().map(crate::model::WebhookDeliveryView::from).collect(),
        total,
        page,
    })
}

#[cfg(feature = "ssr")]
impl From<tollgate::db::webhook_deliveries::LogRow> for crate::model::WebhookDeliveryView {
    fn from(d: tollgate::db::webhook_deliveries::LogRow) -> Self {
        crate::model::WebhookDeliveryView {
            id: d.id,
            event_type: d.event_type,
            sequence: d.event_seq,
            next_attempt_at: (d.status == "pending").then_some(d.next_attempt_at),
            status: d.status,
            attempts: d.attempts,
            created_at: d.created_at,
            replay_of: d.replay_of,
            response_status: d.response_status,
            latency_ms: d.latency_ms,
            error: d.error,
        }
    }
}

/// One delivery of an endpoint in full: the request body and every attempt.
#[server(prefix = "/_fn", endpoint = "webhook_delivery")]
pub async fn webhook_delivery(admin: bool, id: String, delivery: String) -> Result<crate::model::WebhookDeliveryDetail, AppError> {
    let (t, _, scope) = ssr::scope(admin).await?;
    let id = ssr::id(&id)?;
    let delivery = uuid::Uuid::parse_str(&delivery).map_err(|_| AppError::NotFound("There is no such delivery.".into()))?;
    let d = tollgate::service::webhooks::delivery(&t, scope, id, delivery).await?;
    Ok(crate::model::WebhookDeliveryDetail {
        delivery: d.delivery.into(),
        request_body: d.body,
        attempts: d
            .attempts
            .into_iter()
            .map(|a| crate::model::WebhookAttemptView {
                attempted_at: a.attempted_at,
                response_status: a.response_status,
                response_body: a.response_body,
                latency_ms: a.latency_ms,
                error: a.error,
            })
            .collect(),
    })
}

/// Sends a delivery's event again, then goes back to the endpoint's log.
#[server(prefix = "/_fn", endpoint = "webhook_delivery_replay")]
pub async fn replay_webhook_delivery(admin: bool, id: String, delivery: String) -> Result<(), AppError> {
    let (t, me, scope) = ssr::scope(admin).await?;
    let endpoint = ssr::id(&id)?;
    let delivery = uuid::Uuid::parse_str(&delivery).map_err(|_| AppError::NotFound("There is no such delivery.".into()))?;
    tollgate::service::webhooks::replay(&t, &me.actor(), scope, endpoint, delivery, chrono::Utc::now()).await?;
    leptos_axum::redirect(&format!("{}?endpoint={endpoint}&replayed=1", page_path(admin)));
    Ok(())
}

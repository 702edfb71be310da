//! "Manage payment method": a Stripe Customer Portal session for the account's
//! Stripe customer (<https://docs.stripe.com/customer-management>), returning to
//! `/billing`.

use super::failed;
use crate::db;
use crate::service::accounts::{require_role, Role};
use crate::service::{Error, Tollgate};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use uuid::Uuid;

/// The Portal URL for `account_id`, asked by `user_id` (the account's owner: the
/// payment method is the owner's, PRODUCT.md "users").
///
/// # Errors
/// [`Error::Forbidden`] for anyone but the owner; [`Error::Conflict`] when Stripe is
/// not configured or the account has never paid by card; [`Error::Internal`] when
/// Stripe fails.
pub async fn start(t: &Tollgate, account_id: Uuid, user_id: Uuid) -> Result<String, Error> {
    let stripe = t.stripe.as_deref().ok_or_else(|| {
        Error::Conflict("Stripe is not configured: plans are billed by invoice.".into())
    })?;
    require_role(&t.pool, account_id, user_id, Role::Owner).await?;
    let customer = db::stripe::customer_of(&t.pool, account_id)
        .await?
        .ok_or_else(|| {
            Error::Conflict(
                "This account has no card on file: choose a paid plan to add one.".into(),
            )
        })?;
    let session = CreateBillingPortalSession::new()
        .customer(customer.as_str())
        .return_url(format!("{}/billing", t.settings.public_url))
        .send(stripe.client())
        .await
        .map_err(|e| failed("create Portal session", e))?;
    Ok(session.url)
}

//! The in-app notification list, each user's preferences (issue 14; the kinds and
//! the rule that invoices and payment problems cannot be turned off are in
//! [`crate::notification`]), and the notifications time causes (trials ending).

use super::accounts::{require_role, Role};
use super::{Actor, Error, Tollgate};
use crate::db::{self, notification_preferences::PreferenceRow, notifications::NotificationRow};
use crate::notification::{Kind, Preferences};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A page of notifications.
#[derive(Debug, Clone)]
pub struct Page {
    /// Newest first.
    pub items: Vec<NotificationRow>,
    /// All notifications of the account.
    pub total: i64,
    /// Unread ones.
    pub unread: i64,
}

/// Page `page` (from 0) of `per_page` notifications of the account, for a member.
///
/// # Errors
/// [`Error::Forbidden`] for non-members.
pub async fn list(
    pool: &PgPool,
    account_id: Uuid,
    user_id: Uuid,
    page: u32,
    per_page: u32,
) -> Result<Page, Error> {
    require_role(pool, account_id, user_id, Role::Viewer).await?;
    let per_page = i64::from(per_page.clamp(1, 100));
    let items = db::notifications::list(pool, account_id, user_id, per_page, i64::from(page) * per_page).await?;
    let (total, unread) = db::notifications::counts(pool, account_id, user_id).await?;
    Ok(Page {
        items,
        total,
        unread,
    })
}

/// Marks all of the account's notifications read.
///
/// # Errors
/// [`Error::Forbidden`] for non-members.
pub async fn mark_all_read(pool: &PgPool, account_id: Uuid, user_id: Uuid) -> Result<u64, Error> {
    require_role(pool, account_id, user_id, Role::Viewer).await?;
    Ok(db::notifications::mark_all_read(pool, account_id).await?)
}

/// The user's preferences.
///
/// # Errors
/// A database error.
pub async fn preferences(pool: &PgPool, user_id: Uuid) -> Result<Preferences, Error> {
    let mut p = Preferences::default();
    for row in db::notification_preferences::of_user(pool, user_id).await? {
        let Some(kind) = Kind::parse(&row.kind) else { continue };
        if kind.transactional() {
            continue;
        }
        if !row.in_app {
            p.muted_in_app.insert(kind);
        }
        if !row.email {
            p.muted_email.insert(kind);
        }
    }
    Ok(p)
}

/// Stores the user's preferences (transactional kinds are never stored off).
///
/// # Errors
/// A database error.
pub async fn save_preferences(pool: &PgPool, actor: &Actor, user_id: Uuid, p: &Preferences) -> Result<(), Error> {
    let rows: Vec<PreferenceRow> = Kind::ALL
        .into_iter()
        .filter(|k| !k.transactional())
        .filter(|k| p.muted_in_app.contains(k) || p.muted_email.contains(k))
        .map(|k| PreferenceRow {
            kind: k.as_str().to_owned(),
            in_app: !p.muted_in_app.contains(&k),
            email: !p.muted_email.contains(&k),
        })
        .collect();
    let mut tx = pool.begin().await?;
    db::notification_preferences::clear(&mut *tx, user_id).await?;
    db::notification_preferences::insert(&mut *tx, user_id, &rows).await?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "user.notification_preferences_changed",
            target_kind: "user",
            target_id: user_id.to_string(),
            account_id: None,
            ip: None,
            details: serde_json::json!({
                "muted_in_app": p.muted_in_app.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                "muted_email": p.muted_email.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether e-mail of `kind` goes to the account (always for transactional kinds;
/// otherwise unless its owner turned it off).
///
/// # Errors
/// A database error.
pub async fn email_allowed(conn: &mut PgConnection, account_id: Uuid, kind: Kind) -> Result<bool, sqlx::Error> {
    if kind.transactional() {
        return Ok(true);
    }
    Ok(kind.emailed() && !db::notification_preferences::owner_muted_email(conn, account_id, kind.as_str()).await?)
}

/// What time causes, once an hour: `trial_ending` 3 days before a trial ends, in
/// the app and (unless turned off) by e-mail to the account. Returns how many
/// accounts were told.
///
/// # Errors
/// A database error.
pub async fn scheduled(t: &Tollgate, now: DateTime<Utc>) -> Result<usize, Error> {
    let mut tx = t.pool.begin().await?;
    let told = db::notifications::insert_trials_ending(&mut *tx, now).await?;
    let product = t.product_name();
    for (account_id, trial_end) in &told {
        if !email_allowed(&mut tx, *account_id, Kind::TrialEnding).await? {
            continue;
        }
        let Some(to) = db::accounts::mail_recipient(&mut *tx, *account_id).await? else { continue };
        let context = serde_json::json!({
            "product": product,
            "user": { "name": to.owner_name, "email": to.email },
            "account": { "name": to.account_name },
            "trial_end": trial_end.format("%Y-%m-%d").to_string(),
            "billing_link": format!("{}/billing", t.settings.public_url),
        });
        let dedup = format!("trial_ending:{account_id}:{}", trial_end.timestamp());
        super::mail::enqueue(&mut *tx, &to.email, "trial_ending", &context, Some(&dedup), Some(*account_id)).await?;
    }
    tx.commit().await?;
    Ok(told.len())
}

/// A payment arrived for `invoice` (marked paid): in the app, and by e-mail (a
/// receipt, unless turned off).
///
/// # Errors
/// A database error.
pub async fn payment_received(
    conn: &mut PgConnection,
    t: &Tollgate,
    invoice: &db::invoices::InvoiceRow,
) -> Result<(), Error> {
    let number = invoice.number.clone().unwrap_or_default();
    let amount = crate::money::Money::display_in(invoice.amount_due, &invoice.currency);
    let inserted = db::notifications::insert_once(
        &mut *conn,
        invoice.account_id,
        Kind::PaymentReceived.as_str(),
        "Payment received",
        &format!("Thank you: we received {amount} for invoice {number}."),
        &serde_json::json!({ "invoice_id": invoice.id }),
        &format!("payment_received:{}", invoice.id),
    )
    .await?;
    if !inserted || !email_allowed(conn, invoice.account_id, Kind::PaymentReceived).await? {
        return Ok(());
    }
    let Some(to) = db::accounts::mail_recipient(&mut *conn, invoice.account_id).await? else {
        return Ok(());
    };
    let context = serde_json::json!({
        "product": t.product_name(),
        "user": { "name": to.owner_name, "email": to.email },
        "account": { "name": to.account_name },
        "invoice": { "number": number, "amount": amount },
        "billing_link": format!("{}/billing", t.settings.public_url),
    });
    super::mail::enqueue(&mut *conn, &to.email, "payment_received", &context, Some(&format!("payment_received:{}", invoice.id)), Some(invoice.account_id)).await?;
    Ok(())
}

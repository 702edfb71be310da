//! Issued invoices for the billing tests, without waiting for a period to close.

use super::TestApp;
use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use tollgate::invoice::{assemble, Charge, InvoiceStatus, LineKind};
use tollgate::money::Currency;
use uuid::Uuid;

/// Issues an open $19.00 invoice to `account` (on its live subscription) for the
/// last 30 days, numbered `TG-TEST-<n>`; returns its id.
pub async fn open_invoice(app: &TestApp, account: Uuid) -> Uuid {
    let pool = &app.tollgate.pool;
    let sub = tollgate::db::subscriptions::live_for_account(pool, account)
        .await
        .unwrap()
        .expect("a subscription");
    let draft = assemble(
        Currency::USD,
        vec![Charge {
            kind: LineKind::Base,
            description: "Starter, monthly".into(),
            quantity: Decimal::ONE,
            unit_amount: None,
            amount: Decimal::from(19),
            meter: None,
        }],
        None,
        Decimal::ZERO,
    );
    let id = Uuid::now_v7();
    let now = Utc::now();
    let number = format!("TG-TEST-{}", id.simple());
    let mut conn = pool.acquire().await.unwrap();
    tollgate::db::invoices::insert_manual_many(
        &mut conn,
        &[tollgate::db::invoices::NewInvoice {
            id,
            account_id: account,
            subscription_id: sub.id,
            number,
            status: InvoiceStatus::Open,
            period_start: now
                - Duration::days(30)
                - Duration::seconds(i64::from(id.as_bytes()[15])),
            period_end: now,
            plan_key: &sub.plan_key,
            coupon_code: None,
            issued_at: now,
            due_at: now + Duration::days(14),
            draft,
        }],
    )
    .await
    .unwrap();
    id
}

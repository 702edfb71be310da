//! `notifications`: the in-app notification list.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// A notification.
#[derive(Debug, Clone, FromRow)]
pub struct NotificationRow {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Adds a notification for the account.
pub async fn insert(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    kind: &str,
    title: &str,
    body: &str,
    data: &serde_json::Value,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO notifications (id, account_id, kind, title, body, data) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(account_id)
        .bind(kind)
        .bind(title)
        .bind(body)
        .bind(data)
        .execute(db)
        .await?;
    Ok(id)
}

/// A notification to insert with [`insert_many`].
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub account_id: Uuid,
    pub kind: &'a str,
    pub title: String,
    pub body: String,
    pub data: serde_json::Value,
}

/// [`insert`] for many notifications in one statement.
pub async fn insert_many(
    db: impl PgExecutor<'_>,
    rows: &[NewNotification<'_>],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO notifications (id, account_id, kind, title, body, data)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[])",
    )
    .bind(rows.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.account_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.kind).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.title.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.body.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| &r.data).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}

/// Kinds `user_id` turned off in the app (migration 0029), for the queries below.
const SHOWN: &str = "kind NOT IN (SELECT p.kind FROM notification_preferences p WHERE p.user_id = $2 AND NOT p.in_app)";

/// The account's notifications that `user_id` sees (not the kinds they turned
/// off in the app), newest first, `limit` after `offset`.
pub async fn list(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    user_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Vec<NotificationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT id, kind, title, body, created_at, read_at FROM notifications WHERE account_id = $1 AND {SHOWN}
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(account_id)
    .bind(user_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// Number of the notifications `user_id` sees, and of unread ones.
pub async fn counts(db: impl PgExecutor<'_>, account_id: Uuid, user_id: Uuid) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT count(*), count(*) FILTER (WHERE read_at IS NULL) FROM notifications WHERE account_id = $1 AND {SHOWN}"
    ))
    .bind(account_id)
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// [`insert`] at most once per `dedup_key`; returns whether it was inserted.
pub async fn insert_once(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    kind: &str,
    title: &str,
    body: &str,
    data: &serde_json::Value,
    dedup_key: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO notifications (id, account_id, kind, title, body, data, dedup_key) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (account_id, dedup_key) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(account_id)
    .bind(kind)
    .bind(title)
    .bind(body)
    .bind(data)
    .bind(dedup_key)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// `billing_cycle_ended` for the periods these invoices close, with each meter's
/// usage counted in the period (once per subscription and period).
pub async fn insert_cycles_ended(db: impl PgExecutor<'_>, invoice_ids: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notifications (id, account_id, kind, title, body, data, dedup_key)
         SELECT gen_random_uuid(), i.account_id, 'billing_cycle_ended',
                'Billing period ended: ' || to_char(i.period_start, 'YYYY-MM-DD') || ' to ' || to_char(i.period_end, 'YYYY-MM-DD'),
                'Usage this period: ' || coalesce(u.summary, 'none') || '. Invoice ' || coalesce(i.number, '(draft)') || ': '
                    || trim(to_char(i.total, 'FM999999999990.00')) || ' ' || i.currency || '.',
                jsonb_build_object('invoice_id', i.id, 'period_start', i.period_start, 'period_end', i.period_end),
                'billing_cycle_ended:' || coalesce(i.subscription_id::text, i.id::text) || ':' || extract(epoch FROM i.period_start)::bigint
           FROM invoices i
           LEFT JOIN LATERAL (
                SELECT string_agg(t.meter || ' ' || trim(to_char(t.value, 'FM999999999999990.########')), ', ' ORDER BY t.meter) AS summary
                  FROM usage_totals t
                 WHERE t.account_id = i.account_id AND t.period_start >= i.period_start AND t.period_start < i.period_end) u ON true
          WHERE i.id = ANY($1)
         ON CONFLICT (account_id, dedup_key) DO NOTHING",
    )
    .bind(invoice_ids)
    .execute(db)
    .await?;
    Ok(())
}

/// `trial_ending` for every trialing subscription whose trial ends within 3 days
/// of `now` (once per subscription and trial end); returns the accounts told, with
/// the trial's end.
pub async fn insert_trials_ending(db: impl PgExecutor<'_>, now: DateTime<Utc>) -> Result<Vec<(Uuid, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO notifications (id, account_id, kind, title, body, data, dedup_key)
         SELECT gen_random_uuid(), s.account_id, 'trial_ending', 'Your trial ends soon',
                'Your trial of the ' || s.plan_key || ' plan ends on ' || to_char(s.trial_end, 'YYYY-MM-DD')
                    || '. The subscription continues on the plan unless you change or cancel it.',
                jsonb_build_object('subscription_id', s.id, 'trial_end', s.trial_end),
                'trial_ending:' || s.id || ':' || extract(epoch FROM s.trial_end)::bigint
           FROM subscriptions s
          WHERE s.status = 'trialing' AND s.trial_end > $1 AND s.trial_end <= $1 + interval '3 days'
         ON CONFLICT (account_id, dedup_key) DO NOTHING
         RETURNING account_id, (data->>'trial_end')::timestamptz",
    )
    .bind(now)
    .fetch_all(db)
    .await
}

/// Marks every notification of the account read.
pub async fn mark_all_read(db: impl PgExecutor<'_>, account_id: Uuid) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE notifications SET read_at = now() WHERE account_id = $1 AND read_at IS NULL",
    )
    .bind(account_id)
    .execute(db)
    .await?
    .rows_affected())
}

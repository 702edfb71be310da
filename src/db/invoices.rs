//! `invoices`, `invoice_lines` and `invoice_sequences`.

use crate::invoice::{Draft, InvoiceStatus};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

/// An invoice row.
#[derive(Debug, Clone, FromRow)]
pub struct InvoiceRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub subscription_id: Option<Uuid>,
    pub provider: String,
    pub provider_invoice_id: Option<String>,
    pub number: Option<String>,
    pub status: String,
    pub currency: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub plan_key: Option<String>,
    pub subtotal: Decimal,
    pub discount: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
    pub credit_applied: Decimal,
    pub amount_due: Decimal,
    pub amount_paid: Decimal,
    pub coupon_code: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub hosted_url: Option<String>,
    pub pdf_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl InvoiceRow {
    /// The row's status (`draft` for an impossible name).
    pub fn status(&self) -> InvoiceStatus {
        InvoiceStatus::parse(&self.status).unwrap_or(InvoiceStatus::Draft)
    }
}

/// A stored invoice line.
#[derive(Debug, Clone, FromRow)]
pub struct LineRow {
    pub position: i32,
    pub kind: String,
    pub description: String,
    pub quantity: Decimal,
    pub unit_amount: Option<Decimal>,
    pub amount: Decimal,
    pub meter: Option<String>,
}

pub(crate) const COLUMNS: &str = "id, account_id, subscription_id, provider, provider_invoice_id, number, status, currency::text AS currency,
    period_start, period_end, plan_key, subtotal, discount, tax, total, credit_applied, amount_due, amount_paid, coupon_code,
    issued_at, due_at, paid_at, voided_at, hosted_url, pdf_url, created_at";

/// Takes `count` (≥ 1) gap-free sequence numbers of `prefix` and `year` (numbers
/// start at 1) and returns the first; the numbers are `first..first + count`. The
/// row stays locked until the transaction ends, so a rolled-back issue leaves no gap.
pub async fn reserve_numbers(
    db: &mut PgConnection,
    prefix: &str,
    year: i32,
    count: i64,
) -> Result<i64, sqlx::Error> {
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO invoice_sequences (prefix, year, last) VALUES ($1, $2, $3)
         ON CONFLICT (prefix, year) DO UPDATE SET last = invoice_sequences.last + $3 RETURNING last",
    )
    .bind(prefix)
    .bind(year)
    .bind(count)
    .fetch_one(db)
    .await?;
    Ok(last - count + 1)
}

/// A new manual invoice to store.
#[derive(Debug, Clone)]
pub struct NewInvoice<'a> {
    pub id: Uuid,
    pub account_id: Uuid,
    pub subscription_id: Uuid,
    pub number: String,
    pub status: InvoiceStatus,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub plan_key: &'a str,
    pub coupon_code: Option<&'a str>,
    pub issued_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub draft: Draft,
}

/// Stores manual invoices and their lines, two statements whatever their number.
///
/// # Errors
/// A unique violation on `invoices_manual_one_per_period` when a period already has
/// an invoice (the caller checks under the accounts' cycle locks first; the
/// transaction must roll back, numbers included).
pub async fn insert_manual_many(
    db: &mut PgConnection,
    invoices: &[NewInvoice<'_>],
) -> Result<(), sqlx::Error> {
    if invoices.is_empty() {
        return Ok(());
    }
    let col = |f: &dyn Fn(&NewInvoice<'_>) -> Decimal| invoices.iter().map(f).collect::<Vec<_>>();
    let paid_at: Vec<Option<DateTime<Utc>>> = invoices
        .iter()
        .map(|i| (i.status == InvoiceStatus::Paid).then_some(i.issued_at))
        .collect();
    sqlx::query(
        "INSERT INTO invoices (id, account_id, subscription_id, provider, number, status, currency, period_start, period_end, plan_key,
             subtotal, discount, tax, total, credit_applied, amount_due, amount_paid, coupon_code, issued_at, due_at, paid_at)
         SELECT id, account_id, subscription_id, 'manual', number, status, currency, period_start, period_end, plan_key,
             subtotal, discount, tax, total, credit_applied, amount_due, amount_paid, coupon_code, issued_at, due_at, paid_at
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[],
             $9::text[], $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[], $14::numeric[], $15::numeric[], $16::numeric[],
             $17::text[], $18::timestamptz[], $19::timestamptz[], $20::timestamptz[])
           AS t(id, account_id, subscription_id, number, status, currency, period_start, period_end, plan_key,
             subtotal, discount, tax, total, credit_applied, amount_due, amount_paid, coupon_code, issued_at, due_at, paid_at)",
    )
    .bind(invoices.iter().map(|i| i.id).collect::<Vec<_>>())
    .bind(invoices.iter().map(|i| i.account_id).collect::<Vec<_>>())
    .bind(invoices.iter().map(|i| i.subscription_id).collect::<Vec<_>>())
    .bind(invoices.iter().map(|i| i.number.clone()).collect::<Vec<_>>())
    .bind(invoices.iter().map(|i| i.status.as_str()).collect::<Vec<_>>())
    .bind(invoices.iter().map(|i| i.draft.total.currency.code()).collect::<Vec<_>>())
    .bind(invoices.iter().map(|i| i.period_start).collect::<Vec<_>>())
    .bind(invoices.iter().map(|i| i.period_end).collect::<Vec<_>>())
    .bind(invoices.iter().map(|i| i.plan_key).collect::<Vec<_>>())
    .bind(col(&|i| i.draft.subtotal.amount))
    .bind(col(&|i| i.draft.discount.amount))
    .bind(col(&|i| i.draft.tax.amount))
    .bind(col(&|i| i.draft.total.amount))
    .bind(col(&|i| i.draft.credit_applied.amount))
    .bind(col(&|i| i.draft.amount_due.amount))
    .bind(col(&|i| {
        if i.status == InvoiceStatus::Paid {
            i.draft.amount_due.amount
        } else {
            Decimal::ZERO
        }
    }))
    .bind(invoices.iter().map(|i| i.coupon_code).collect::<Vec<_>>())
    .bind(invoices.iter().map(|i| i.issued_at).collect::<Vec<_>>())
    .bind(invoices.iter().map(|i| i.due_at).collect::<Vec<_>>())
    .bind(paid_at)
    .execute(&mut *db)
    .await?;
    let lines: Vec<(&NewInvoice<'_>, i32, &crate::invoice::Line)> = invoices
        .iter()
        .flat_map(|i| {
            i.draft
                .lines
                .iter()
                .enumerate()
                .map(move |(pos, line)| (i, i32::try_from(pos).unwrap_or(i32::MAX), line))
        })
        .collect();
    sqlx::query(
        "INSERT INTO invoice_lines (account_id, invoice_id, position, kind, description, quantity, unit_amount, amount, meter)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::numeric[], $7::numeric[], $8::numeric[], $9::text[])",
    )
    .bind(lines.iter().map(|l| l.0.account_id).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.0.id).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.1).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.2.kind.as_str()).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.2.description.as_str()).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.2.quantity).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.2.unit_amount).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.2.amount.amount).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.2.meter.as_deref()).collect::<Vec<_>>())
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Which of the periods `(account_ids[i], subscription_ids[i], period_starts[i])`
/// have a manual invoice, as `(subscription id, period start)` pairs.
pub async fn manual_existing(
    db: impl PgExecutor<'_>,
    account_ids: &[Uuid],
    subscription_ids: &[Uuid],
    period_starts: &[DateTime<Utc>],
) -> Result<std::collections::HashSet<(Uuid, DateTime<Utc>)>, sqlx::Error> {
    let rows: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "SELECT i.subscription_id, i.period_start FROM invoices i
         JOIN unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS p(account_id, subscription_id, period_start)
           ON i.account_id = p.account_id AND i.subscription_id = p.subscription_id AND i.period_start = p.period_start
         WHERE i.provider = 'manual'",
    )
    .bind(account_ids)
    .bind(subscription_ids)
    .bind(period_starts)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

/// One invoice.
pub async fn by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM invoices WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The mirror of Stripe invoice `provider_invoice_id` (`in_…`).
pub async fn by_provider_id(
    db: impl PgExecutor<'_>,
    provider_invoice_id: &str,
) -> Result<Option<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invoices WHERE provider_invoice_id = $1"
    ))
    .bind(provider_invoice_id)
    .fetch_optional(db)
    .await
}

/// One invoice, locked for a status change.
pub async fn lock(db: &mut PgConnection, id: Uuid) -> Result<Option<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invoices WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The lines of `account_id`'s invoice `invoice_id`, in order.
pub async fn lines(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    invoice_id: Uuid,
) -> Result<Vec<LineRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT position, kind, description, quantity, unit_amount, amount, meter FROM invoice_lines
         WHERE account_id = $1 AND invoice_id = $2 ORDER BY position",
    )
    .bind(account_id)
    .bind(invoice_id)
    .fetch_all(db)
    .await
}

/// The account's invoices, newest period first, drafts left out; `limit`/`offset` page.
pub async fn for_account(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Vec<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invoices WHERE account_id = $1 AND status <> 'draft'
         ORDER BY period_start DESC, created_at DESC LIMIT $2 OFFSET $3"
    ))
    .bind(account_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// Filters of the admin invoice list; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Exact status name.
    pub status: Option<String>,
    /// Only open invoices past due at this instant.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Number or account name / e-mail fragment, case-insensitive.
    pub search: Option<String>,
}

/// An invoice with its account's name, for the admin list and the CSV export.
#[derive(Debug, Clone, FromRow)]
pub struct ListedInvoice {
    #[sqlx(flatten)]
    pub invoice: InvoiceRow,
    pub account_name: String,
}

/// Invoices matching `f`, newest first, and the number matching in all.
pub async fn search(
    db: &mut PgConnection,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ListedInvoice>, i64), sqlx::Error> {
    const WHERE: &str = "WHERE ($1::text IS NULL OR i.status = $1)
          AND ($2::timestamptz IS NULL OR (i.status = 'open' AND i.due_at < $2))
          AND ($3::text IS NULL OR i.number ILIKE '%' || $3 || '%' OR a.name ILIKE '%' || $3 || '%')";
    let rows = sqlx::query_as(&format!(
        "SELECT {cols}, a.name AS account_name FROM invoices i JOIN accounts a ON a.id = i.account_id {WHERE}
         ORDER BY i.issued_at DESC NULLS LAST, i.created_at DESC LIMIT $4 OFFSET $5",
        cols = COLUMNS.split(',').map(|c| format!("i.{}", c.trim())).collect::<Vec<_>>().join(", "),
    ))
    .bind(f.status.as_deref())
    .bind(f.overdue_at)
    .bind(f.search.as_deref())
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *db)
    .await?;
    let total = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM invoices i JOIN accounts a ON a.id = i.account_id {WHERE}"
    ))
    .bind(f.status.as_deref())
    .bind(f.overdue_at)
    .bind(f.search.as_deref())
    .fetch_one(&mut *db)
    .await?;
    Ok((rows, total))
}

/// Moves an invoice to `status`, stamping when it was paid, voided or written off.
pub async fn set_status(
    db: impl PgExecutor<'_>,
    id: Uuid,
    status: InvoiceStatus,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE invoices SET status = $2, updated_at = now(),
             paid_at = CASE WHEN $2 = 'paid' THEN $3 ELSE paid_at END,
             amount_paid = CASE WHEN $2 = 'paid' THEN amount_due ELSE amount_paid END,
             voided_at = CASE WHEN $2 = 'void' THEN $3 ELSE voided_at END,
             marked_uncollectible_at = CASE WHEN $2 = 'uncollectible' THEN $3 ELSE marked_uncollectible_at END
         WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

/// The invoice with `number`.
pub async fn by_number(
    db: impl PgExecutor<'_>,
    number: &str,
) -> Result<Option<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM invoices WHERE number = $1"))
        .bind(number)
        .fetch_optional(db)
        .await
}

/// How many invoices the account has (drafts left out).
pub async fn count_for_account(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM invoices WHERE account_id = $1 AND status <> 'draft'")
        .bind(account_id)
        .fetch_one(db)
        .await
}

/// A Stripe invoice as Stripe currently reports it, in Tollgate's terms (amounts in
/// major units, already exact: Stripe's integer minor units divided by 10^scale).
#[derive(Debug, Clone)]
pub struct StripeInvoice<'a> {
    /// `in_…`.
    pub provider_invoice_id: &'a str,
    pub account_id: Uuid,
    pub subscription_id: Option<Uuid>,
    pub number: Option<&'a str>,
    pub status: InvoiceStatus,
    /// Upper-case ISO code.
    pub currency: &'a str,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub plan_key: Option<&'a str>,
    pub subtotal: Decimal,
    pub discount: Decimal,
    pub total: Decimal,
    pub credit_applied: Decimal,
    pub amount_due: Decimal,
    pub amount_paid: Decimal,
    pub issued_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    /// Set exactly when paid / void / uncollectible.
    pub paid_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub uncollectible_at: Option<DateTime<Utc>>,
    pub hosted_url: Option<&'a str>,
    pub pdf_url: Option<&'a str>,
}

/// One line of a mirrored Stripe invoice.
#[derive(Debug, Clone)]
pub struct StripeLine {
    /// `base`, `usage` or `proration`.
    pub kind: &'static str,
    pub description: String,
    pub quantity: Decimal,
    pub amount: Decimal,
}

/// Stores or refreshes a Stripe invoice; its lines are stored once it is no longer a
/// draft (an issued invoice's lines never change). Returns the invoice id and the
/// status it had before (`None` when new).
pub async fn upsert_stripe(
    db: &mut PgConnection,
    i: &StripeInvoice<'_>,
    lines: &[StripeLine],
) -> Result<(Uuid, Option<String>), sqlx::Error> {
    let before: Option<(Uuid, String)> =
        sqlx::query_as("SELECT id, status FROM invoices WHERE provider_invoice_id = $1 FOR UPDATE")
            .bind(i.provider_invoice_id)
            .fetch_optional(&mut *db)
            .await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO invoices (id, account_id, subscription_id, provider, provider_invoice_id, number, status, currency, period_start, period_end,
             plan_key, subtotal, discount, tax, total, credit_applied, amount_due, amount_paid, issued_at, due_at, paid_at, voided_at,
             marked_uncollectible_at, hosted_url, pdf_url)
         VALUES ($1, $2, $3, 'stripe', $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
         ON CONFLICT (account_id, provider_invoice_id) DO UPDATE SET
             subscription_id = EXCLUDED.subscription_id, number = EXCLUDED.number, status = EXCLUDED.status,
             period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end, plan_key = EXCLUDED.plan_key,
             subtotal = EXCLUDED.subtotal, discount = EXCLUDED.discount, total = EXCLUDED.total,
             credit_applied = EXCLUDED.credit_applied, amount_due = EXCLUDED.amount_due, amount_paid = EXCLUDED.amount_paid,
             issued_at = EXCLUDED.issued_at, due_at = EXCLUDED.due_at, paid_at = EXCLUDED.paid_at, voided_at = EXCLUDED.voided_at,
             marked_uncollectible_at = EXCLUDED.marked_uncollectible_at, hosted_url = EXCLUDED.hosted_url, pdf_url = EXCLUDED.pdf_url,
             updated_at = now()
         RETURNING id",
    )
    .bind(before.as_ref().map_or_else(Uuid::now_v7, |b| b.0))
    .bind(i.account_id)
    .bind(i.subscription_id)
    .bind(i.provider_invoice_id)
    .bind(i.number)
    .bind(i.status.as_str())
    .bind(i.currency)
    .bind(i.period_start)
    .bind(i.period_end)
    .bind(i.plan_key)
    .bind(i.subtotal)
    .bind(i.discount)
    .bind(i.total)
    .bind(i.credit_applied)
    .bind(i.amount_due)
    .bind(i.amount_paid)
    .bind(i.issued_at)
    .bind(i.due_at)
    .bind(i.paid_at)
    .bind(i.voided_at)
    .bind(i.uncollectible_at)
    .bind(i.hosted_url)
    .bind(i.pdf_url)
    .fetch_one(&mut *db)
    .await?;
    if i.status != InvoiceStatus::Draft {
        for (pos, line) in lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO invoice_lines (account_id, invoice_id, position, kind, description, quantity, amount)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, invoice_id, position) DO NOTHING",
            )
            .bind(i.account_id)
            .bind(id)
            .bind(i32::try_from(pos).unwrap_or(i32::MAX))
            .bind(line.kind)
            .bind(&line.description)
            .bind(line.quantity)
            .bind(line.amount)
            .execute(&mut *db)
            .await?;
        }
    }
    Ok((id, before.map(|b| b.1)))
}

/// Stripe ids of the account's open Stripe invoices whose subscription is past due,
/// oldest first: what a new payment method should pay.
pub async fn past_due_stripe_ids(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT i.provider_invoice_id FROM invoices i JOIN subscriptions s ON s.account_id = i.account_id AND s.id = i.subscription_id
         WHERE i.account_id = $1 AND i.provider = 'stripe' AND i.status = 'open' AND s.status = 'past_due'
           AND i.provider_invoice_id IS NOT NULL
         ORDER BY i.period_start, i.id",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// An issued invoice as the revenue analytics read it.
#[derive(Debug, Clone, FromRow)]
pub struct AnalyticsInvoice {
    pub issued_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub marked_uncollectible_at: Option<DateTime<Utc>>,
    pub total: Decimal,
    pub amount_due: Decimal,
    pub amount_paid: Decimal,
    /// The sum of its `usage` lines.
    pub usage: Decimal,
}

/// Issued invoices in `currency` that matter from `since` on: issued or paid
/// since, or still unpaid (they may be outstanding at any month's end).
pub async fn for_analytics(
    db: impl PgExecutor<'_>,
    currency: &str,
    since: DateTime<Utc>,
) -> Result<Vec<AnalyticsInvoice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT i.issued_at, i.due_at, i.paid_at, i.voided_at, i.marked_uncollectible_at, i.total, i.amount_due, i.amount_paid,
                coalesce((SELECT sum(l.amount) FROM invoice_lines l WHERE l.account_id = i.account_id AND l.invoice_id = i.id AND l.kind = 'usage'), 0) AS usage
         FROM invoices i
         WHERE i.currency = $1 AND i.status <> 'draft' AND i.issued_at IS NOT NULL
           AND (i.issued_at >= $2 OR i.paid_at IS NULL OR i.paid_at >= $2)",
    )
    .bind(currency)
    .bind(since)
    .fetch_all(db)
    .await
}

/// What `account_ids` were invoiced (totals after discounts, void and draft
/// invoices left out) for the periods starting in `[from, to)`, by account.
pub async fn revenue_by_account(
    db: impl PgExecutor<'_>,
    account_ids: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(Uuid, Decimal)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT account_id, sum(total) FROM invoices
         WHERE account_id = ANY($1) AND period_start >= $2 AND period_start < $3
           AND status NOT IN ('void', 'draft')
         GROUP BY account_id",
    )
    .bind(account_ids)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await
}

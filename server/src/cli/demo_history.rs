//! A year of demo customers for the admin analytics: sixteen accounts whose
//! subscriptions start, end trials, change plan, cancel and come back over the
//! last twelve months, made through the same services as real ones (back-dated),
//! then billed by the invoice run month by month, most invoices paid a few days
//! after issue and a few left overdue. Runs once: when its first customer exists,
//! it does nothing.

use chrono::{DateTime, Duration, Months, Utc};
use tollgate::analytics::month::month_start;
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::invoice::InvoiceStatus;
use tollgate::period::{Interval, Period};
use tollgate::service::{auth, invoices, plans, provider, Actor, Tollgate};
use uuid::Uuid;

/// What happens to a demo customer, in days after the history's start.
enum Step {
    Choose(&'static str, Interval),
    Cancel,
}

/// `(name, [(day, step)])`: each customer's life over the last 360 days.
const CUSTOMERS: [(&str, &[(i64, Step)]); 16] = [
    (
        "Northwind Traders",
        &[(5, Step::Choose("pro", Interval::Month))],
    ),
    (
        "Globex Research",
        &[(12, Step::Choose("starter", Interval::Year))],
    ),
    (
        "Initech Labs",
        &[
            (20, Step::Choose("starter", Interval::Month)),
            (140, Step::Choose("pro", Interval::Month)),
        ],
    ),
    (
        "Umbrella Studio",
        &[
            (35, Step::Choose("pro", Interval::Month)),
            (200, Step::Choose("starter", Interval::Month)),
        ],
    ),
    (
        "Hooli Health",
        &[
            (48, Step::Choose("starter", Interval::Month)),
            (170, Step::Cancel),
        ],
    ),
    (
        "Vandelay Imports",
        &[(60, Step::Choose("pro", Interval::Year))],
    ),
    (
        "Stark Analytics",
        &[
            (75, Step::Choose("starter", Interval::Month)),
            (230, Step::Cancel),
            (300, Step::Choose("pro", Interval::Month)),
        ],
    ),
    (
        "Wayne Logistics",
        &[
            (90, Step::Choose("pro", Interval::Month)),
            (260, Step::Cancel),
        ],
    ),
    (
        "Acorn Dental",
        &[(110, Step::Choose("starter", Interval::Month))],
    ),
    (
        "Bluebird Books",
        &[
            (130, Step::Choose("starter", Interval::Month)),
            (250, Step::Choose("pro", Interval::Month)),
        ],
    ),
    (
        "Cobalt Media",
        &[(160, Step::Choose("pro", Interval::Month))],
    ),
    (
        "Delta Outfitters",
        &[(190, Step::Choose("starter", Interval::Year))],
    ),
    (
        "Evergreen Law",
        &[
            (215, Step::Choose("pro", Interval::Month)),
            (320, Step::Cancel),
        ],
    ),
    (
        "Foxglove Cafe",
        &[(240, Step::Choose("starter", Interval::Month))],
    ),
    (
        "Granite Works",
        &[(290, Step::Choose("pro", Interval::Month))],
    ),
    (
        "Harbor Clinic",
        &[(345, Step::Choose("starter", Interval::Month))],
    ),
];

fn email(i: usize) -> String {
    format!("history-{:02}@demo.tollgate.test", i + 1)
}

/// Seeds the history ending at `now`, unless it is there already. Returns whether
/// it seeded.
///
/// # Errors
/// Database failures; a plan the catalog lacks (the history needs starter and pro).
pub async fn seed(
    t: &Tollgate,
    password: &NewPassword,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let catalog = t.catalog.get()?;
    if catalog.plan("starter").is_none()
        || catalog.plan("pro").is_none()
        || tollgate::db::users::by_email(&t.pool, &email(0))
            .await?
            .is_some()
    {
        return Ok(false);
    }
    let start = now - Duration::days(360);
    let mut events: Vec<(DateTime<Utc>, Uuid, &Step)> = Vec::new();
    for (i, (name, steps)) in CUSTOMERS.iter().enumerate() {
        let email = Email::parse(&email(i)).map_err(|e| anyhow::anyhow!(e))?;
        let name = PersonName::parse(name).map_err(|e| anyhow::anyhow!(e))?;
        let created =
            auth::sign_up(&t.pool, &email, &name, password, false, Some(&Actor::Cli)).await?;
        events.extend(steps.iter().map(|(day, step)| {
            (
                start + Duration::days(*day) + Duration::hours(9),
                created.account_id,
                step,
            )
        }));
    }
    events.sort_by_key(|e| e.0);
    for (at, account, step) in events {
        catch_up(t, at).await?;
        match step {
            Step::Choose(plan, interval) => {
                plans::choose(
                    t,
                    account,
                    plan,
                    *interval,
                    plans::Chooser::Operator,
                    &Actor::Cli,
                    at,
                )
                .await?;
            }
            Step::Cancel => provider::cancel(t, account, &Actor::Cli, at).await?,
        }
    }
    bill(t, start, now).await?;
    Ok(true)
}

/// What the server's jobs would have done by `at`: trials ended, period-end changes
/// and cancellations applied.
async fn catch_up(t: &Tollgate, at: DateTime<Utc>) -> anyhow::Result<()> {
    tollgate::db::subscriptions::end_trials(&t.pool, at).await?;
    provider::manual::apply_due(t, at).await?;
    Ok(())
}

/// Runs the invoice run for each month from `start` to the last closed one, at the
/// first hour of the next month, and pays each invoice five days after it was
/// issued, but every seventh (left open: overdue by now unless it is recent).
async fn bill(t: &Tollgate, start: DateTime<Utc>, now: DateTime<Utc>) -> anyhow::Result<()> {
    let mut month = month_start(start);
    let mut n = 0;
    while let Some(end) = month
        .checked_add_months(Months::new(1))
        .filter(|end| *end <= now)
    {
        let issue = end + Duration::hours(1);
        catch_up(t, end).await?;
        let run = invoices::run::run(t, Period { start: month, end }, &Actor::Cli, issue).await?;
        for invoice in run.issued {
            n += 1;
            let paid_at = issue + Duration::days(5);
            if n % 7 != 0 && paid_at < now && !invoice.amount_due.amount.is_zero() {
                invoices::status::set_status(
                    t,
                    &Actor::Cli,
                    invoice.id,
                    InvoiceStatus::Paid,
                    paid_at,
                )
                .await?;
            }
        }
        month = end;
    }
    catch_up(t, now).await
}

//! `tollgate demo seed`: the demo users of the run command, and a year of demo
//! customers for the analytics ([`super::demo_history`]). Safe to run again: users
//! that exist are left as they are.

use anyhow::Context;
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::period::Interval;
use tollgate::service::accounts::Role;
use tollgate::service::organizations::{invitations, seats};
use tollgate::service::webhooks::{self, Scope};
use tollgate::service::{auth, organizations, plans, Actor, Tollgate};

/// The password of every demo user (printed; demo data only).
pub const DEMO_PASSWORD: &str = "tollgate-demo";

struct Demo {
    email: &'static str,
    name: &'static str,
    role: &'static str,
    super_admin: bool,
}

const USERS: [Demo; 4] = [
    Demo {
        email: "customer@tollgate.test",
        name: "Casey Customer",
        role: "customer on Starter (trial), member of Acme Inc",
        super_admin: false,
    },
    Demo {
        email: "owner@tollgate.test",
        name: "Olive Owner",
        role: "owner of Acme Inc (Team)",
        super_admin: false,
    },
    Demo {
        email: "finance@tollgate.test",
        name: "Fran Finance",
        role: "on Pro by bank transfer for 75 days (invoiced)",
        super_admin: false,
    },
    Demo {
        email: "admin@tollgate.test",
        name: "Ada Admin",
        role: "super admin",
        super_admin: true,
    },
];

/// The e-mail domains of demo users (the run command's and the analytics history's).
const DEMO_DOMAINS: [&str; 2] = ["tollgate.test", "demo.tollgate.test"];

/// Creates the missing demo users and prints every credential.
///
/// # Errors
/// Database failures; no catalog loaded (plans are needed); or demo users are
/// missing from a database that already holds other users: demo users have a
/// published password and a super admin among them, so they are never added
/// beside real ones (issue 12). A database seeded before stays seedable.
pub async fn seed(t: &Tollgate) -> anyhow::Result<()> {
    let catalog = t
        .catalog
        .get()
        .context("load a catalog first: tollgate catalog load catalogs/emtchat.toml")?;
    let password = NewPassword::parse(DEMO_PASSWORD).map_err(|e| anyhow::anyhow!(e))?;
    refuse_beside_real_users(t).await?;
    for d in &USERS {
        let email = Email::parse(d.email).map_err(|e| anyhow::anyhow!(e))?;
        if tollgate::db::users::by_email(&t.pool, email.as_str())
            .await?
            .is_some()
        {
            continue;
        }
        let name = PersonName::parse(d.name).map_err(|e| anyhow::anyhow!(e))?;
        let created = auth::sign_up(
            &t.pool,
            &email,
            &name,
            &password,
            d.super_admin,
            Some(&Actor::Cli),
        )
        .await?;
        let now = chrono::Utc::now();
        match d.email {
            "customer@tollgate.test" if catalog.plan("starter").is_some() => {
                plans::choose(
                    t,
                    created.account_id,
                    "starter",
                    Interval::Month,
                    plans::Chooser::Operator,
                    &Actor::Cli,
                    now,
                )
                .await?;
            }
            "finance@tollgate.test" if catalog.plan("pro").is_some() => {
                // Started 75 days ago: the server's invoice run (at start, then hourly)
                // issues the closed periods, so the billing pages have invoices.
                plans::choose(
                    t,
                    created.account_id,
                    "pro",
                    Interval::Month,
                    plans::Chooser::Operator,
                    &Actor::Cli,
                    now - chrono::Duration::days(75),
                )
                .await?;
            }
            "owner@tollgate.test" => {
                let org = organizations::create(
                    &t.pool,
                    "Acme Inc",
                    "acme",
                    "billing@acme.test",
                    created.user_id,
                    &Actor::Cli,
                )
                .await?;
                demo_endpoint(t, Scope::Account(org), "Acme's CRM sync (the demo receiver)").await;
                if catalog.plan("team").is_some() {
                    plans::choose(
                        t,
                        org,
                        "team",
                        Interval::Month,
                        plans::Chooser::Operator,
                        &Actor::Cli,
                        now,
                    )
                    .await?;
                    seats::set_seats(t, org, created.user_id, 3, &Actor::Cli, now).await?;
                }
                add_demo_member(t, org, created.user_id, "customer@tollgate.test").await?;
            }
            _ => {}
        }
    }
    if super::demo_history::seed(t, &password, chrono::Utc::now()).await? {
        println!("Seeded a year of history for the admin analytics: 16 demo customers (history-01…16@demo.tollgate.test).");
    }
    let with_usage = super::demo_usage::seed(t, chrono::Utc::now()).await?;
    println!("Demo usage this period: queries and tokens on {with_usage} demo accounts (see /admin/usage).");
    // The monthly usage reports of the months the history covers (/billing lists them).
    let now = chrono::Utc::now();
    let mut month = tollgate::service::usage_reports::previous_month(now);
    let mut reports = 0;
    for _ in 0..6 {
        reports += tollgate::service::usage_reports::store(t, month, now).await?;
        month = month.checked_sub_months(chrono::Months::new(1)).unwrap_or(month);
    }
    if reports > 0 {
        println!("Stored {reports} monthly usage reports of the last six months.");
    }
    // After the history: it receives what happens from now on (the server's
    // invoice run at start, the demo users' changes).
    demo_endpoint(t, Scope::Platform, "Operator's data warehouse (the demo receiver)").await;
    println!("Demo users (password for all: {DEMO_PASSWORD}):");
    for d in &USERS {
        println!("  {:<24} {}", d.email, d.role);
    }
    Ok(())
}

/// Where the demo's webhook endpoints point: `tollgate webhooks listen`, which the
/// run command starts, verifies and prints what arrives.
pub const DEMO_RECEIVER: &str = "http://127.0.0.1:3999/";

/// Adds a demo endpoint to `scope` unless it has one to the demo receiver. Only
/// told when it cannot (private targets not allowed): the demo goes on.
async fn demo_endpoint(t: &Tollgate, scope: Scope, description: &str) {
    let exists = webhooks::list(t, scope).await.is_ok_and(|l| l.iter().any(|e| e.url.starts_with(DEMO_RECEIVER)));
    if exists {
        return;
    }
    let input = webhooks::EndpointInput {
        url: Some(format!("{DEMO_RECEIVER}{}", if scope == Scope::Platform { "platform" } else { "acme" })),
        description: Some(description.to_owned()),
        event_types: None,
        enabled: None,
    };
    match webhooks::create(t, &Actor::Cli, scope, &input).await {
        Ok(created) => println!("Webhook endpoint {} ({description}).", created.endpoint.url),
        Err(e) => println!("No demo webhook endpoint: {e}"),
    }
}

/// Refuses when a demo user is missing and the database holds users outside the
/// demo domains.
async fn refuse_beside_real_users(t: &Tollgate) -> anyhow::Result<()> {
    let mut missing = false;
    for d in &USERS {
        missing |= tollgate::db::users::by_email(&t.pool, d.email)
            .await?
            .is_none();
    }
    let others = tollgate::db::users::count_outside_domains(&t.pool, &DEMO_DOMAINS).await?;
    if missing && others > 0 {
        anyhow::bail!(
            "refusing to seed the demo: this database holds {others} user(s) who are not demo users, and the demo adds a super admin whose password is published ({DEMO_PASSWORD}). Run the demo on a database of its own (unset DATABASE_URL to use the private one under .data/)"
        );
    }
    Ok(())
}

/// Makes the demo user `email` (if it exists) a member of `org`, through an
/// invitation from `owner` accepted at once (both audited as the CLI).
async fn add_demo_member(
    t: &Tollgate,
    org: uuid::Uuid,
    owner: uuid::Uuid,
    email: &str,
) -> anyhow::Result<()> {
    let (Some(inviter), Some(member)) = (
        tollgate::db::users::by_id(&t.pool, owner).await?,
        tollgate::db::users::by_email(&t.pool, email).await?,
    ) else {
        return Ok(());
    };
    let now = chrono::Utc::now();
    let sent = invitations::invite(t, org, &inviter, email, Role::Member, &Actor::Cli, now).await?;
    invitations::accept(t, &sent.token, &member, &Actor::Cli, now).await?;
    Ok(())
}

//! `tollgate demo seed`: the demo users of the run command. Safe to run again: users
//! that exist are left as they are.

use anyhow::Context;
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::period::Interval;
use tollgate::service::{auth, organizations, plans, Actor, Tollgate};

/// The password of every demo user (printed; demo data only).
pub const DEMO_PASSWORD: &str = "tollgate-demo";

struct Demo {
    email: &'static str,
    name: &'static str,
    role: &'static str,
    super_admin: bool,
}

const USERS: [Demo; 3] = [
    Demo { email: "customer@tollgate.test", name: "Casey Customer", role: "customer on Starter (trial)", super_admin: false },
    Demo { email: "owner@tollgate.test", name: "Olive Owner", role: "owner of Acme Inc (Team)", super_admin: false },
    Demo { email: "admin@tollgate.test", name: "Ada Admin", role: "super admin", super_admin: true },
];

/// Creates the missing demo users and prints every credential.
///
/// # Errors
/// Database failures, or no catalog loaded (plans are needed).
pub async fn seed(t: &Tollgate) -> anyhow::Result<()> {
    let catalog = t.catalog.get().context("load a catalog first: tollgate catalog load catalogs/emtchat.toml")?;
    let password = NewPassword::parse(DEMO_PASSWORD).map_err(|e| anyhow::anyhow!(e))?;
    for d in &USERS {
        let email = Email::parse(d.email).map_err(|e| anyhow::anyhow!(e))?;
        if tollgate::db::users::by_email(&t.pool, email.as_str()).await?.is_some() {
            continue;
        }
        let name = PersonName::parse(d.name).map_err(|e| anyhow::anyhow!(e))?;
        let created = auth::sign_up(&t.pool, &email, &name, &password, d.super_admin, Some(&Actor::Cli)).await?;
        let now = chrono::Utc::now();
        match d.email {
            "customer@tollgate.test" if catalog.plan("starter").is_some() => {
                plans::choose(t, created.account_id, "starter", Interval::Month, plans::Chooser::Operator, &Actor::Cli, now).await?;
            }
            "owner@tollgate.test" => {
                let org = organizations::create(&t.pool, "Acme Inc", "acme", "billing@acme.test", created.user_id, &Actor::Cli).await?;
                if catalog.plan("team").is_some() {
                    plans::choose(t, org, "team", Interval::Month, plans::Chooser::Operator, &Actor::Cli, now).await?;
                }
            }
            _ => {}
        }
    }
    println!("Demo users (password for all: {DEMO_PASSWORD}):");
    for d in &USERS {
        println!("  {:<24} {}", d.email, d.role);
    }
    Ok(())
}

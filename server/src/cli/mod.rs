//! The operator's command line. Every sub-command reads the same configuration as
//! the server; bad arguments print a clear error and exit non-zero.

pub mod demo;
pub mod demo_history;
pub mod demo_usage;
mod invoices_cli;
mod mail_cli;
mod overrides_cli;
mod stripe_cli;
mod webhooks_cli;

use crate::config::Config;
use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::invoice::InvoiceStatus;
use tollgate::period::Interval;
use tollgate::service::accounts::{self, AccountRef};
use tollgate::service::{auth, catalog, keys, mail, plans, Actor, Settings, Tollgate};

/// Tollgate: billing, metering and entitlements for SaaS products.
#[derive(Parser)]
#[command(name = "tollgate", version, about, propagate_version = true)]
struct Cli {
    /// Configuration file (TOML); defaults to ./tollgate.toml when present.
    #[arg(long, global = true, env = "TOLLGATE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal and the API (migrates first).
    Serve {
        /// Address to listen on (overrides the configuration).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Apply database migrations.
    Migrate,
    /// Manage the plan catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Demo data for local development.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// The e-mail outbox.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Tollgate's own invoices (the manual provider).
    #[command(subcommand)]
    Invoices(InvoicesCommand),
    /// The Stripe provider.
    #[command(subcommand)]
    Stripe(StripeCommand),
    /// Usage history.
    #[command(subcommand)]
    Usage(UsageCommand),
    /// Outgoing webhook endpoints, their deliveries, and a receiver.
    #[command(subcommand)]
    Webhooks(webhooks_cli::WebhooksCommand),
}

#[derive(Subcommand)]
enum UsageCommand {
    /// Recompute the daily usage rollup (the history's source) from the stored
    /// events, one account at a time (its ingestion waits meanwhile).
    RebuildRollups {
        /// First day, inclusive (YYYY-MM-DD, UTC; default: 35 days ago, the oldest
        /// an event may be back-dated). Not before the oldest stored month.
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Day after the last, exclusive (default: tomorrow).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Only this account (uuid, `ext:<id>`, or a personal account's e-mail);
        /// default: every account.
        #[arg(long)]
        account: Option<String>,
    },
    /// Store the monthly usage report of every account with usage in a month that
    /// has none yet (the hourly job stores last month's by itself).
    StoreReports {
        /// The month, YYYY-MM (default: last month). It must be over.
        #[arg(long)]
        month: Option<String>,
    },
}

#[derive(Subcommand)]
enum StripeCommand {
    /// Create or update Stripe products and prices (lookup keys `<plan>_<interval>`)
    /// from the catalog; running it twice changes nothing.
    Sync,
}

#[derive(Subcommand)]
enum InvoicesCommand {
    /// Invoice every manual subscription's billing periods that closed in a month;
    /// running it twice issues nothing new.
    Run {
        /// The month, YYYY-MM (default: last month).
        #[arg(long)]
        period: Option<String>,
    },
    /// Record that an invoice was paid (a bank transfer arrived).
    MarkPaid {
        /// Invoice number (TG-2026-000001).
        number: String,
    },
    /// Void an invoice: nothing is owed; credit it used goes back to the balance.
    Void {
        /// Invoice number.
        number: String,
    },
    /// Write an invoice off as uncollectible.
    MarkUncollectible {
        /// Invoice number.
        number: String,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Print recent e-mails, newest first, with their rendered subject and body
    /// (also those only logged because SMTP is not configured).
    List {
        /// Only e-mails to this address.
        #[arg(long)]
        to: Option<String>,
        /// How many (1–500).
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Load a catalog file (TOML) as the active catalog; a bad file changes nothing.
    Load {
        /// The file, e.g. catalogs/emtchat.toml.
        file: PathBuf,
        /// Do nothing when a catalog is already loaded (keeps operator edits).
        #[arg(long)]
        if_empty: bool,
    },
    /// Write the live catalog (with the admin panel's edits) as TOML that loads
    /// unchanged, to standard output or --out.
    Export {
        /// The file to write; standard output without it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create a user with a personal account (on no plan).
    Create {
        /// E-mail address (unique).
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Password (at least 10 characters).
        #[arg(long)]
        password: String,
        /// Make the user a super admin (operator staff).
        #[arg(long)]
        super_admin: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create an API key and print it once.
    Create(KeyTarget),
    /// Revoke a key (an account's or a platform key) by its id: it answers 401 from
    /// then on. Audited.
    Revoke {
        /// The key's id (a uuid, as `/admin/keys` and the API keys page show).
        id: uuid::Uuid,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct KeyTargetChoice {
    /// A platform key (`tg_pk_…`), acting for any account.
    #[arg(long)]
    platform: bool,
    /// An account key (`tg_sk_…`) for this account: uuid, `ext:<id>` or the e-mail of
    /// a personal account's user.
    #[arg(long)]
    account: Option<String>,
}

#[derive(Args)]
struct KeyTarget {
    #[command(flatten)]
    target: KeyTargetChoice,
    /// A label, such as "production backend".
    #[arg(long)]
    name: String,
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Put an account on a plan at once (the manual provider), any plan included.
    SetPlan {
        /// Account uuid, `ext:<id>`, or the e-mail of a personal account's user.
        account: String,
        /// Plan key.
        plan: String,
        /// Billing interval.
        #[arg(long, default_value = "month", value_parser = ["month", "year"])]
        interval: String,
        /// When the subscription started (RFC 3339, UTC), for a customer billed
        /// elsewhere until now: its closed periods are invoiced by the next run.
        /// Only for an account without a live subscription, and only in the past.
        #[arg(long)]
        started: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Set (or with --remove, remove) an account's override of one meter's limit or
    /// one feature's value, winning over its plan's; audited.
    Override(overrides_cli::OverrideArgs),
    /// List an account's entitlement overrides (expired ones too).
    Overrides {
        /// Account uuid, `ext:<id>`, or the e-mail of a personal account's user.
        account: String,
    },
    /// Apply a catalog coupon to an account from its next invoice on.
    ApplyCoupon {
        /// Account uuid, `ext:<id>`, or the e-mail of a personal account's user.
        account: String,
        /// Coupon code from the catalog.
        coupon: String,
        /// Who verified the account is eligible (kept in the audit log).
        #[arg(long)]
        verified_by: Option<String>,
    },
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Create the demo users (a customer, an org owner, a super admin) if missing,
    /// and print their credentials.
    Seed,
}

/// Parses the command line and runs the command.
///
/// # Errors
/// Whatever the command met, with context for the operator.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    crate::telemetry::init_logging();
    let mut cfg = Config::load(cli.config.as_deref())?;
    if let Command::Serve { listen: Some(addr) } = &cli.command {
        cfg.listen = *addr;
    }
    // `serve` states its whole configuration at start (an operator reads it in the
    // log); the one-shot commands keep their answer alone unless RUST_LOG=debug.
    if matches!(cli.command, Command::Serve { .. }) {
        tracing::info!(config = ?cfg.masked(), "effective configuration");
    } else {
        tracing::debug!(config = ?cfg.masked(), "effective configuration");
    }
    match cli.command {
        Command::Serve { .. } => crate::serve::run(cfg).await,
        Command::Migrate => {
            let pool = connect(&cfg).await?;
            tollgate::db::migrate(&pool)
                .await
                .context("migrations failed")?;
            println!("database is up to date");
            Ok(())
        }
        Command::Catalog(CatalogCommand::Export { out }) => {
            let t = services(&cfg).await?;
            let Some(version) = tollgate::db::catalog::latest_version(&t.pool).await? else {
                anyhow::bail!("no catalog version is kept yet: load the catalog file once more (tollgate catalog load FILE)");
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, &version.text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!(
                        "wrote catalog version {} (from {}) to {}",
                        version.version,
                        version.source,
                        path.display()
                    );
                }
                None => print!("{}", version.text),
            }
            Ok(())
        }
        Command::Catalog(CatalogCommand::Load { file, if_empty }) => {
            let t = services(&cfg).await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            if let (true, Ok(active)) = (if_empty, t.catalog.get()) {
                println!("catalog {} is already loaded; left as it is", active.name);
                if catalog::adopt_as_version(&t.pool, &file.display().to_string(), &text).await? {
                    println!(
                        "kept {} as its first version (the admin panel can edit it now)",
                        file.display()
                    );
                }
                return Ok(());
            }
            let loaded =
                catalog::load(&t.pool, &file.display().to_string(), &text, &Actor::Cli).await?;
            println!(
                "loaded catalog {} ({}): {} plans, {} meters, {} features",
                loaded.name,
                loaded.title,
                loaded.plans.len(),
                loaded.meters.len(),
                loaded.features.len()
            );
            Ok(())
        }
        Command::Users(UsersCommand::Create {
            email,
            name,
            password,
            super_admin,
        }) => {
            let t = services(&cfg).await?;
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let name = PersonName::parse(&name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
            let password =
                NewPassword::parse(&password).map_err(|e| anyhow::anyhow!("--password: {e}"))?;
            let created = auth::sign_up(
                &t.pool,
                &email,
                &name,
                &password,
                super_admin,
                Some(&Actor::Cli),
            )
            .await?;
            println!(
                "created user {} ({email}) with personal account {}",
                created.user_id, created.account_id
            );
            Ok(())
        }
        Command::Keys(KeysCommand::Create(KeyTarget { target, name })) => {
            let t = services(&cfg).await?;
            let created = if target.platform {
                keys::create_platform_key(&t.pool, &name, &Actor::Cli).await?
            } else {
                let account =
                    find_account(&t, target.account.as_deref().unwrap_or_default()).await?;
                keys::create_account_key(&t.pool, account, &name, &Actor::Cli).await?
            };
            println!("{}", created.secret);
            eprintln!(
                "created {} key \"{}\" ({}); it is shown only this once",
                created.key.kind, created.key.name, created.key.prefix
            );
            Ok(())
        }
        Command::Keys(KeysCommand::Revoke { id }) => {
            let t = services(&cfg).await?;
            let key = keys::revoke_by_operator(&t.pool, id, &Actor::Cli).await?;
            println!("revoked {} key \"{}\" ({})", key.kind, key.name, key.prefix);
            Ok(())
        }
        Command::Accounts(AccountsCommand::SetPlan {
            account,
            plan,
            interval,
            started,
        }) => {
            let t = services(&cfg).await?;
            let account_id = find_account(&t, &account).await?;
            let interval: Interval = interval.parse()?;
            let now = chrono::Utc::now();
            match started {
                Some(at) => {
                    anyhow::ensure!(at < now, "--started must be in the past");
                    anyhow::ensure!(
                        tollgate::db::subscriptions::live_for_account(&t.pool, account_id)
                            .await?
                            .is_none(),
                        "--started is only for an account without a live subscription"
                    );
                    plans::choose(
                        &t,
                        account_id,
                        &plan,
                        interval,
                        plans::Chooser::Operator,
                        &Actor::Cli,
                        at,
                    )
                    .await?;
                }
                None => {
                    tollgate::service::provider::choose(
                        &t,
                        account_id,
                        &plan,
                        interval,
                        tollgate::service::provider::Timing::Now,
                        plans::Chooser::Operator,
                        &Actor::Cli,
                        now,
                    )
                    .await?;
                }
            }
            let sub = tollgate::db::subscriptions::live_for_account(&t.pool, account_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the account has no live subscription"))?;
            println!(
                "account {account_id} is on {} ({}), status {}, billed by {}",
                sub.plan_key, sub.interval, sub.status, sub.provider
            );
            Ok(())
        }
        Command::Accounts(AccountsCommand::Override(args)) => {
            let t = services(&cfg).await?;
            let account_id = find_account(&t, &args.account).await?;
            overrides_cli::set_or_remove(&t, account_id, &args).await
        }
        Command::Accounts(AccountsCommand::Overrides { account }) => {
            let t = services(&cfg).await?;
            let account_id = find_account(&t, &account).await?;
            overrides_cli::list(&t, account_id).await
        }
        Command::Accounts(AccountsCommand::ApplyCoupon {
            account,
            coupon,
            verified_by,
        }) => {
            let t = services(&cfg).await?;
            let account_id = find_account(&t, &account).await?;
            tollgate::service::coupons::apply(
                &t,
                &Actor::Cli,
                account_id,
                &coupon,
                verified_by.as_deref(),
                chrono::Utc::now(),
            )
            .await?;
            println!("account {account_id} has coupon {coupon} from its next invoice on");
            Ok(())
        }
        Command::Invoices(InvoicesCommand::Run { period }) => {
            invoices_cli::run(&services(&cfg).await?, period.as_deref()).await
        }
        Command::Invoices(InvoicesCommand::MarkPaid { number }) => {
            invoices_cli::set_status(&services(&cfg).await?, &number, InvoiceStatus::Paid).await
        }
        Command::Invoices(InvoicesCommand::Void { number }) => {
            invoices_cli::set_status(&services(&cfg).await?, &number, InvoiceStatus::Void).await
        }
        Command::Invoices(InvoicesCommand::MarkUncollectible { number }) => {
            invoices_cli::set_status(
                &services(&cfg).await?,
                &number,
                InvoiceStatus::Uncollectible,
            )
            .await
        }
        Command::Usage(UsageCommand::RebuildRollups { from, to, account }) => {
            let t = services(&cfg).await?;
            let today = chrono::Utc::now().date_naive();
            let from = from.unwrap_or(today - chrono::Days::new(35));
            let to = to.unwrap_or(today + chrono::Days::new(1));
            let ids = match account {
                Some(a) => vec![find_account(&t, &a).await?],
                None => Vec::new(),
            };
            let (accounts, rows) =
                tollgate::service::usage_history::rebuild(&t.pool, &ids, from, to).await?;
            println!("usage rollups rebuilt from {from} to {to} (exclusive): {accounts} accounts, {rows} rows");
            Ok(())
        }
        Command::Usage(UsageCommand::StoreReports { month }) => {
            use tollgate::service::usage_reports;
            let t = services(&cfg).await?;
            let now = chrono::Utc::now();
            let month = match month {
                Some(m) => usage_reports::parse_month(&m)?,
                None => usage_reports::previous_month(now),
            };
            let stored = usage_reports::store(&t, month, now).await?;
            println!("usage reports for {}: {stored} stored", month.format("%Y-%m"));
            Ok(())
        }
        Command::Stripe(StripeCommand::Sync) => stripe_cli::sync(&services(&cfg).await?).await,
        Command::Webhooks(command) => webhooks_cli::run(&services(&cfg).await?, command).await,
        Command::Demo(DemoCommand::Seed) => demo::seed(&services(&cfg).await?).await,
        Command::Mail(MailCommand::List { to, limit }) => {
            let pool = connect(&cfg).await?;
            tollgate::db::migrate(&pool)
                .await
                .context("migrations failed")?;
            let listed = mail::recent(&pool, to.as_deref(), limit)
                .await
                .map_err(|e| anyhow::anyhow!("--to: {e}"))?;
            if listed.is_empty() {
                println!(
                    "no e-mail{}",
                    to.map(|t| format!(" to {t}")).unwrap_or_default()
                );
            }
            for m in &listed {
                print!("{}", mail_cli::format(m));
            }
            Ok(())
        }
    }
}

async fn connect(cfg: &Config) -> anyhow::Result<sqlx::PgPool> {
    tollgate::db::connect(&cfg.database_url, 4)
        .await
        .with_context(|| format!("cannot reach PostgreSQL at {}", cfg.masked().database_url))
}

async fn services(cfg: &Config) -> anyhow::Result<Tollgate> {
    let pool = connect(cfg).await?;
    tollgate::db::migrate(&pool)
        .await
        .context("migrations failed")?;
    let tollgate = Tollgate::new(
        pool,
        Settings {
            public_url: cfg.public_url(),
            sales_email: cfg.sales_email.clone(),
            cookie_secure: cfg.cookie_secure,
        },
    )
    .await?
    .with_webhooks(cfg.webhooks()?)
    .with_dunning(cfg.dunning()?);
    Ok(match cfg.stripe()? {
        Some(stripe) => tollgate.with_stripe(stripe),
        None => tollgate,
    })
}

async fn find_account(t: &Tollgate, reference: &str) -> anyhow::Result<uuid::Uuid> {
    let r =
        AccountRef::parse(reference).map_err(|e| anyhow::anyhow!("account `{reference}`: {e}"))?;
    match accounts::find(&t.pool, &r).await? {
        Some(a) => Ok(a.id),
        None => bail!("no account `{reference}`"),
    }
}

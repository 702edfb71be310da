//! Super admins come from `tollgate users create --super-admin` and the demo seed.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::process::{Command, Output};

fn tollgate(db: &PgConnectOptions, args: &[&str]) -> Output {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let url = format!(
        "{}/{}",
        base.rsplit_once('/').expect("a database in the URL").0,
        db.get_database().expect("a test database")
    );
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

#[sqlx::test(migrations = "../migrations")]
async fn the_demo_is_not_seeded_beside_real_users(
    pool_options: PgPoolOptions,
    db: PgConnectOptions,
) {
    let pool = pool_options.connect_with(db.clone()).await.unwrap();
    assert!(tollgate(&db, &["catalog", "load", "catalogs/emtchat.toml"])
        .status
        .success());
    let out = tollgate(
        &db,
        &[
            "users",
            "create",
            "--email",
            "real@customer.example",
            "--name",
            "Real",
            "--password",
            "correct horse battery",
        ],
    );
    assert!(out.status.success());
    let out = tollgate(&db, &["demo", "seed"]);
    assert!(!out.status.success(), "refused");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("refusing to seed the demo")
            && said.contains("1 user(s) who are not demo users"),
        "{said}"
    );
    let users: Vec<String> = sqlx::query_scalar("SELECT email FROM users")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        users,
        vec!["real@customer.example".to_string()],
        "nothing was added"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_cli_and_the_demo_seed_create_super_admins(
    pool_options: PgPoolOptions,
    db: PgConnectOptions,
) {
    let pool = pool_options.connect_with(db.clone()).await.unwrap();
    assert!(tollgate(&db, &["catalog", "load", "catalogs/emtchat.toml"])
        .status
        .success());
    let out = tollgate(&db, &["demo", "seed"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let args = [
        "users",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "Ops",
        "--password",
        "correct horse battery",
    ];
    let out = tollgate(&db, &[&args[..], &["--super-admin"]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tollgate(
        &db,
        &[
            "users",
            "create",
            "--email",
            "plain@example.com",
            "--name",
            "Plain",
            "--password",
            "correct horse battery",
        ],
    );
    assert!(out.status.success());
    let admins: Vec<String> =
        sqlx::query_scalar("SELECT email FROM users WHERE is_super_admin ORDER BY email")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        admins,
        vec![
            "admin@tollgate.test".to_string(),
            "ops@example.com".to_string()
        ]
    );
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'user.created_super_admin' AND actor_kind = 'cli'").fetch_one(&pool).await.unwrap();
    assert_eq!(audited, 2);

    // Every live demo subscription has this period's usage, once: seeding again the same day adds nothing.
    let usage = "SELECT coalesce(sum(t.value), 0)::text FROM usage_totals t WHERE t.meter = 'queries' AND t.period_end > now()";
    let used: String = sqlx::query_scalar(usage).fetch_one(&pool).await.unwrap();
    let accounts: i64 = sqlx::query_scalar("SELECT count(DISTINCT account_id) FROM usage_totals WHERE meter = 'queries' AND period_end > now()").fetch_one(&pool).await.unwrap();
    let live: i64 =
        sqlx::query_scalar("SELECT count(*) FROM subscriptions WHERE status <> 'canceled'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        accounts >= 10 && accounts == live,
        "{accounts} accounts with usage of {live} live subscriptions"
    );
    // And months of daily history by model, for the usage charts.
    let history = "SELECT count(DISTINCT date_trunc('month', day))::bigint, count(DISTINCT dimensions->>'model')::bigint, sum(quantity)::text FROM usage_daily_rollups WHERE meter = 'queries'";
    let (months, models, total): (i64, i64, String) =
        sqlx::query_as(history).fetch_one(&pool).await.unwrap();
    assert!(months >= 6 && models == 3, "{months} months, {models} models");
    let token_cost: rust_decimal::Decimal = sqlx::query_scalar(
        "SELECT coalesce(sum(cost), 0) FROM usage_daily_rollups WHERE meter = 'tokens'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(token_cost > rust_decimal::Decimal::ZERO, "tokens carry their provider cost for /admin/costs");
    assert!(tollgate(&db, &["demo", "seed"]).status.success());
    assert_eq!(
        sqlx::query_scalar::<_, String>(usage)
            .fetch_one(&pool)
            .await
            .unwrap(),
        used,
        "idempotent within the day"
    );
    let again: (i64, i64, String) = sqlx::query_as(history).fetch_one(&pool).await.unwrap();
    assert_eq!(again, (months, models, total), "the history is seeded once");
    // A limit edited since (the shares now give other figures): the run still
    // succeeds and the period keeps its usage.
    let edited = std::env::temp_dir().join(format!(
        "tollgate-demo-{}.toml",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::write(
        &edited,
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../catalogs/emtchat.toml"
        ))
        .unwrap()
        .replace(
            "queries = { included = 500, enforcement = \"soft\" }",
            "queries = { included = 1000, enforcement = \"soft\" }",
        ),
    )
    .unwrap();
    assert!(
        tollgate(&db, &["catalog", "load", edited.to_str().unwrap()])
            .status
            .success()
    );
    let out = tollgate(&db, &["demo", "seed"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        sqlx::query_scalar::<_, String>(usage)
            .fetch_one(&pool)
            .await
            .unwrap(),
        used,
        "the seeded period keeps its usage"
    );
    let _ = std::fs::remove_file(edited);

    // The demo's bank-transfer customer started 75 days ago: last month is billed.
    let period = tollgate::invoice::schedule::month_label(
        tollgate::invoice::schedule::previous_month(chrono::Utc::now()),
    );
    assert!(tollgate(&db, &["invoices", "run", "--period", &period])
        .status
        .success());
    let billed: Vec<String> = sqlx::query_scalar(
        "SELECT i.plan_key FROM invoices i JOIN memberships m ON m.account_id = i.account_id JOIN users u ON u.id = m.user_id
         WHERE u.email = 'finance@tollgate.test' AND i.provider = 'manual'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        !billed.is_empty() && billed.iter().all(|p| p == "pro"),
        "{billed:?}"
    );
}

/// `tollgate catalog export` writes the live catalog, panel edits included, as
/// TOML that loads unchanged.
#[sqlx::test(migrations = "../migrations")]
async fn catalog_export_writes_what_loads_unchanged(
    pool_options: PgPoolOptions,
    db: PgConnectOptions,
) {
    let pool = pool_options.connect_with(db.clone()).await.unwrap();
    let out = tollgate(&db, &["catalog", "export"]);
    assert!(!out.status.success(), "nothing to export before a load");
    assert!(tollgate(&db, &["catalog", "load", "catalogs/emtchat.toml"])
        .status
        .success());
    let out = tollgate(&db, &["catalog", "export"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        exported,
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../catalogs/emtchat.toml"
        ))
        .unwrap(),
        "the file as loaded"
    );

    // A database loaded before versions were kept: `load --if-empty` keeps the file
    // as the first version only when it is exactly the live catalog.
    sqlx::query("DELETE FROM catalog_versions")
        .execute(&pool)
        .await
        .unwrap();
    let out = tollgate(
        &db,
        &["catalog", "load", "--if-empty", "catalogs/exprsn.toml"],
    );
    assert!(
        out.status.success() && !String::from_utf8_lossy(&out.stdout).contains("kept"),
        "another catalog is not adopted"
    );
    assert!(!tollgate(&db, &["catalog", "export"]).status.success());
    let out = tollgate(
        &db,
        &["catalog", "load", "--if-empty", "catalogs/emtchat.toml"],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("kept catalogs/emtchat.toml as its first version"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        String::from_utf8(tollgate(&db, &["catalog", "export"]).stdout).unwrap(),
        exported
    );

    // An edit in the panel (through the same service), then export and load again.
    let t = tollgate::service::Tollgate::new(
        pool.clone(),
        tollgate::service::Settings {
            public_url: "http://t".into(),
            sales_email: "s@t".into(),
            cookie_secure: false,
        },
    )
    .await
    .unwrap();
    let admin = tollgate::service::auth::sign_up(
        &pool,
        &tollgate::identity::Email::parse("ops@example.com").unwrap(),
        &tollgate::identity::PersonName::parse("Ops").unwrap(),
        &tollgate::identity::NewPassword::parse("correct horse battery").unwrap(),
        true,
        None,
    )
    .await
    .unwrap();
    let actor = tollgate::service::Actor::User {
        id: admin.user_id,
        impersonator: None,
    };
    use tollgate::catalog::edit::EditInput;
    use tollgate::service::admin::plan_edits::{preview, publish};
    for input in [
        EditInput {
            kind: "limit",
            plan: "pro",
            target: "documents",
            value: "250",
            enforcement: "hard",
            grace_percent: "",
        },
        EditInput {
            kind: "price",
            plan: "pro",
            target: "year",
            value: "480.50",
            ..EditInput::default()
        },
        EditInput {
            kind: "feature",
            plan: "pro",
            target: "sso_enabled",
            value: "true",
            ..EditInput::default()
        },
        EditInput {
            kind: "threshold",
            target: "95",
            value: "email",
            ..EditInput::default()
        },
    ] {
        let base = preview(&t, &actor, &input).await.unwrap().base_version;
        publish(&t, &actor, &input, base).await.unwrap();
    }
    let file = std::env::temp_dir().join(format!(
        "tollgate-export-{}.toml",
        uuid::Uuid::now_v7().simple()
    ));
    assert!(
        tollgate(&db, &["catalog", "export", "--out", file.to_str().unwrap()])
            .status
            .success()
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let exported = tollgate::catalog::file::parse("export", &text).unwrap();
    assert_eq!(
        &exported,
        &*t.catalog.get().unwrap(),
        "the export is the live catalog"
    );
    assert!(
        tollgate(&db, &["catalog", "load", file.to_str().unwrap()])
            .status
            .success(),
        "and loads"
    );
    let _ = std::fs::remove_file(file);
}

#[sqlx::test(migrations = "../migrations")]
async fn accounts_override_sets_lists_refuses_and_removes(
    pool_options: PgPoolOptions,
    db: PgConnectOptions,
) {
    let pool = pool_options.connect_with(db.clone()).await.unwrap();
    assert!(tollgate(&db, &["catalog", "load", "catalogs/emtchat.toml"])
        .status
        .success());
    assert!(tollgate(
        &db,
        &[
            "users",
            "create",
            "--email",
            "deal@example.com",
            "--name",
            "Deal",
            "--password",
            "correct horse battery"
        ]
    )
    .status
    .success());
    let set = [
        "accounts",
        "override",
        "deal@example.com",
        "--meter",
        "queries",
        "--included",
        "1000",
        "--enforcement",
        "hard",
        "--reason",
        "Enterprise deal #7",
        "--until",
        "2099-12-31",
    ];
    let out = tollgate(&db, &set);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tollgate(&db, &["accounts", "overrides", "deal@example.com"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.starts_with("active\tlimit\tqueries\t")
            && listed.contains("Enterprise deal #7")
            && listed.contains("2100-01-01"),
        "{listed}"
    );

    // A value the feature does not list is refused, and nothing is stored.
    let out = tollgate(
        &db,
        &[
            "accounts",
            "override",
            "deal@example.com",
            "--feature",
            "support_level",
            "--value",
            "platinum",
            "--reason",
            "typo",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expected one of"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tollgate(
        &db,
        &[
            "accounts",
            "override",
            "deal@example.com",
            "--meter",
            "queries",
            "--included",
            "5",
        ],
    );
    assert!(!out.status.success(), "a reason is required");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM entitlement_overrides")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);

    assert!(tollgate(
        &db,
        &[
            "accounts",
            "override",
            "deal@example.com",
            "--meter",
            "queries",
            "--remove"
        ]
    )
    .status
    .success());
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM entitlement_overrides")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action LIKE 'entitlement_override.%' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        vec![
            "entitlement_override.set".to_string(),
            "entitlement_override.removed".to_string()
        ]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn keys_revoke_ends_a_platform_key_and_is_audited(
    pool_options: PgPoolOptions,
    db: PgConnectOptions,
) {
    let pool = pool_options.connect_with(db.clone()).await.unwrap();
    assert!(tollgate(&db, &["catalog", "load", "catalogs/emtchat.toml"])
        .status
        .success());
    let out = tollgate(
        &db,
        &["keys", "create", "--platform", "--name", "billing backend"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(secret.starts_with("tg_pk_"));
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM api_keys WHERE kind = 'platform'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let t = tollgate::service::Tollgate::new(
        pool.clone(),
        tollgate::service::Settings {
            public_url: "http://t.example".into(),
            sales_email: "s@t.example".into(),
            cookie_secure: false,
        },
    )
    .await
    .unwrap();
    assert!(tollgate::service::keys::authenticate(&t.pool, &secret)
        .await
        .is_ok());

    let out = tollgate(&db, &["keys", "revoke", &id.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("revoked platform key \"billing backend\"")
    );
    assert!(matches!(
        tollgate::service::keys::authenticate(&t.pool, &secret).await,
        Err(tollgate::service::Error::Unauthorized)
    ));
    // Twice is an error, not a second audit entry.
    assert!(!tollgate(&db, &["keys", "revoke", &id.to_string()])
        .status
        .success());
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'api_key.revoked' AND actor_kind = 'cli'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

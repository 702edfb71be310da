//! The `tollgate` binary itself: exit codes, messages and effects, on a database
//! of its own per test.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::process::{Command, Output};

/// Runs `tollgate <args>` against the test's database.
fn tollgate(db: &PgConnectOptions, args: &[&str]) -> Output {
    tollgate_logging(db, args, "warn")
}

/// Runs `tollgate <args>` with `RUST_LOG=<log>`.
fn tollgate_logging(db: &PgConnectOptions, args: &[&str], log: &str) -> Output {
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
        .env("RUST_LOG", log)
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn operator_commands_work_end_to_end(pool_options: PgPoolOptions, db: PgConnectOptions) {
    let pool = pool_options.connect_with(db.clone()).await.unwrap();
    let out = tollgate(&db, &["catalog", "load", "catalogs/emtchat.toml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("loaded catalog emtchat"));
    let again = tollgate(
        &db,
        &["catalog", "load", "--if-empty", "catalogs/emtchat.toml"],
    );
    assert!(text(&again.stdout).contains("already loaded"));

    let out = tollgate(
        &db,
        &[
            "users",
            "create",
            "--email",
            "Ada@Example.com",
            "--name",
            "Ada",
            "--password",
            "correct horse battery",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = tollgate(
        &db,
        &[
            "accounts",
            "set-plan",
            "ada@example.com",
            "enterprise",
            "--interval",
            "year",
        ],
    );
    assert!(
        out.status.success(),
        "operators may set contact-sales plans: {}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("enterprise"));

    let out = tollgate(
        &db,
        &[
            "keys",
            "create",
            "--account",
            "ada@example.com",
            "--name",
            "backend",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = text(&out.stdout);
    let key = key.trim();
    assert!(
        key.starts_with("tg_sk_") && !key.contains('\n'),
        "stdout is only the key: {key:?}"
    );
    let caller = tollgate::service::keys::authenticate(&pool, key)
        .await
        .expect("the printed key works");
    assert!(matches!(
        caller,
        tollgate::service::keys::Caller::Account { .. }
    ));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE prefix = $1")
        .bind(&key[..12])
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);

    let out = tollgate(&db, &["keys", "create", "--platform", "--name", "ops"]);
    assert!(text(&out.stdout).trim().starts_with("tg_pk_"));
    let audit: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE actor_kind = 'cli'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(audit >= 5, "every change is audited as the CLI: {audit}");
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_arguments_fail_clearly_and_change_nothing(
    pool_options: PgPoolOptions,
    db: PgConnectOptions,
) {
    let pool = pool_options.connect_with(db.clone()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("tollgate-cli-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        include_str!("../../../catalogs/emtchat.toml").replace(
            "[plans.free.limits]\nqueries",
            "[plans.free.limits]\nquerys",
        ),
    )
    .unwrap();
    let out = tollgate(&db, &["catalog", "load", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.toml: plans.free.limits.querys: no meter \"querys\" in this catalog"),
        "{err}"
    );
    let catalogs: i64 = sqlx::query_scalar("SELECT count(*) FROM catalog_info")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(catalogs, 0);

    let cases: [(&[&str], i32, &str); 6] = [
        (&["keys", "create", "--name", "x"], 2, "--platform"),
        (
            &[
                "keys",
                "create",
                "--platform",
                "--account",
                "a@b.co",
                "--name",
                "x",
            ],
            2,
            "cannot be used with",
        ),
        (
            &["accounts", "set-plan", "nobody@example.com", "pro"],
            1,
            "no account",
        ),
        (
            &["accounts", "set-plan", "x", "pro", "--interval", "weekly"],
            2,
            "weekly",
        ),
        (
            &[
                "users",
                "create",
                "--email",
                "not-an-email",
                "--name",
                "A",
                "--password",
                "correct horse battery",
            ],
            1,
            "--email",
        ),
        (&["catalog", "load", "/nonexistent.toml"], 1, "cannot read"),
    ];
    for (args, code, message) in cases {
        let out = tollgate(&db, args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(message),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn mail_list_prints_rendered_messages(pool_options: PgPoolOptions, db: PgConnectOptions) {
    let pool = pool_options.connect_with(db.clone()).await.unwrap();
    let out = tollgate(&db, &["mail", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "no e-mail\n");
    let context = serde_json::json!({"user": {"name": "Ada", "email": "ada@example.com"}, "link": "http://127.0.0.1:3000/reset-password?token=abc", "expires_in_minutes": 60});
    tollgate::service::mail::enqueue(
        &pool,
        "ada@example.com",
        "password_reset",
        &context,
        None,
        None,
    )
    .await
    .unwrap();
    tollgate::service::mail::enqueue(
        &pool,
        "bob@example.com",
        "password_reset",
        &context,
        None,
        None,
    )
    .await
    .unwrap();
    let out = tollgate(&db, &["mail", "list", "--to", "ADA@example.com"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("pending · attempts 0 · password_reset · to ada@example.com"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Subject: Reset your password\n\nHi Ada,\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("http://127.0.0.1:3000/reset-password?token=abc"),
        "{stdout}"
    );
    assert!(!stdout.contains("bob@"), "{stdout}");
    let out = tollgate(&db, &["mail", "list", "--to", "not an address"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--to"), "{}", text(&out.stderr));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_customer_imported_with_a_start_date_is_invoiced_for_its_closed_periods(
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
            "imp@example.com",
            "--name",
            "Imp",
            "--password",
            "correct horse battery"
        ]
    )
    .status
    .success());
    let future = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let out = tollgate(
        &db,
        &[
            "accounts",
            "set-plan",
            "imp@example.com",
            "starter",
            "--started",
            &future,
        ],
    );
    assert!(
        !out.status.success() && text(&out.stderr).contains("--started must be in the past"),
        "{}",
        text(&out.stderr)
    );
    let subs: i64 = sqlx::query_scalar("SELECT count(*) FROM subscriptions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(subs, 0, "a refused import changes nothing");

    let started = chrono::Utc::now() - chrono::Duration::days(75);
    let out = tollgate(
        &db,
        &[
            "accounts",
            "set-plan",
            "imp@example.com",
            "starter",
            "--started",
            &started.to_rfc3339(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again = tollgate(
        &db,
        &[
            "accounts",
            "set-plan",
            "imp@example.com",
            "pro",
            "--started",
            &started.to_rfc3339(),
        ],
    );
    assert!(
        !again.status.success() && text(&again.stderr).contains("without a live subscription"),
        "{}",
        text(&again.stderr)
    );

    let last_month = tollgate::invoice::schedule::previous_month(chrono::Utc::now());
    let period = tollgate::invoice::schedule::month_label(last_month);
    let out = tollgate(&db, &["invoices", "run", "--period", &period]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let issued: Vec<(String, rust_decimal::Decimal)> =
        sqlx::query_as("SELECT status, total FROM invoices WHERE provider = 'manual'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(
        !issued.is_empty() && issued.iter().all(|(s, _)| s == "open"),
        "{issued:?}"
    );
    assert!(
        issued
            .iter()
            .any(|(_, total)| *total > rust_decimal::Decimal::ZERO),
        "a paid period is billed: {issued:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn only_serve_states_the_configuration_at_info(
    _pool_options: PgPoolOptions,
    db: PgConnectOptions,
) {
    let out = tollgate_logging(&db, &["migrate"], "info");
    assert!(out.status.success());
    assert!(
        !text(&out.stderr).contains("effective configuration"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stdout),
        "database is up to date\n",
        "the answer alone"
    );
    let out = tollgate_logging(&db, &["migrate"], "debug");
    assert!(
        text(&out.stderr).contains("effective configuration"),
        "still there at debug"
    );
    // `serve` on an address already taken: it states its configuration, then fails to listen.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = tollgate_logging(&db, &["serve", "--listen", &addr], "info");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("effective configuration"),
        "{}",
        text(&out.stderr)
    );
}

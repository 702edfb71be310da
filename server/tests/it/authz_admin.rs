//! Authorization matrix of the super admin panel, over HTTP: every admin server
//! function and `/admin` page, for each role, is allowed or refused as the rules
//! say. A super admin who impersonates someone has only that user's powers.

use crate::support;

use sqlx::PgPool;
use support::admin::{call, fn_outcome, log_in, page_outcome, session_cookie, Outcome};
use support::{spawn_app, TestApp, PASSWORD};
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::service::{auth, organizations, Actor};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    User,
    OrgViewer,
    OrgMember,
    OrgAdmin,
    OrgOwner,
    SuperAdmin,
    Impersonating,
}

const ROLES: [Role; 8] = [
    Role::Anonymous,
    Role::User,
    Role::OrgViewer,
    Role::OrgMember,
    Role::OrgAdmin,
    Role::OrgOwner,
    Role::SuperAdmin,
    Role::Impersonating,
];

/// The people of the matrix.
struct Cast {
    user: (Uuid, String),
    /// The organization's viewer, member and admin (no power outside it).
    viewer: (Uuid, String),
    member: (Uuid, String),
    org_admin: (Uuid, String),
    owner: (Uuid, String),
    admin: (Uuid, String),
    org: Uuid,
}

async fn person(app: &TestApp, tag: &str, super_admin: bool) -> (Uuid, String) {
    let email = format!("{tag}-{}@test.example", Uuid::now_v7().simple());
    let u = auth::sign_up(
        &app.tollgate.pool,
        &Email::parse(&email).unwrap(),
        &PersonName::parse(tag).unwrap(),
        &NewPassword::parse(PASSWORD).unwrap(),
        super_admin,
        None,
    )
    .await
    .unwrap();
    // They confirmed their address (an unconfirmed one cannot log in).
    tollgate::db::users::set_verified(&app.tollgate.pool, u.user_id)
        .await
        .unwrap();
    (u.user_id, email)
}

async fn cast(app: &TestApp) -> Cast {
    // A catalog with a coupon, for the coupon actions.
    let catalog = format!("{}\n[coupons.nonprofit]\nname = \"Non-profit discount\"\npercent_off = 50\nduration = \"forever\"\n", support::EMTCHAT);
    tollgate::service::catalog::load(
        &app.tollgate.pool,
        "catalogs/emtchat.toml",
        &catalog,
        &Actor::Cli,
    )
    .await
    .unwrap();
    app.tollgate
        .catalog
        .refresh(&app.tollgate.pool)
        .await
        .unwrap();
    let user = person(app, "user", false).await;
    let owner = person(app, "owner", false).await;
    let admin = person(app, "admin", true).await;
    let org = organizations::create(
        &app.tollgate.pool,
        "Matrix Org",
        "matrix-org",
        "billing@matrix.test",
        owner.0,
        &Actor::Cli,
    )
    .await
    .unwrap();
    let viewer = person(app, "viewer", false).await;
    let member = person(app, "member", false).await;
    let org_admin = person(app, "orgadmin", false).await;
    for (who, role) in [
        (&viewer, "viewer"),
        (&member, "member"),
        (&org_admin, "admin"),
    ] {
        tollgate::db::accounts::insert_membership(&app.tollgate.pool, org, who.0, role)
            .await
            .unwrap();
    }
    Cast {
        user,
        viewer,
        member,
        org_admin,
        owner,
        admin,
        org,
    }
}

/// Starts an impersonation of a fresh customer over HTTP; returns the rotated cookie.
async fn impersonating(app: &TestApp, admin_cookie: &str) -> String {
    let target = app.customer(Some("starter")).await;
    let res = call(
        app,
        "admin_impersonate",
        Some(admin_cookie),
        &[
            ("id", target.user_id.to_string()),
            ("reason", "authz matrix".into()),
        ],
    )
    .await;
    let cookie = session_cookie(&res).expect("the session id rotates when impersonation starts");
    let (outcome, body) = fn_outcome(res).await;
    assert_eq!(outcome, Outcome::Allowed, "{body}");
    assert_ne!(cookie, admin_cookie);
    cookie
}

/// A fresh session for `role` (state-changing calls must not share one).
async fn session(app: &TestApp, c: &Cast, role: Role) -> Option<String> {
    match role {
        Role::Anonymous => None,
        Role::User => Some(log_in(app, &c.user.1, PASSWORD).await),
        Role::OrgViewer => Some(log_in(app, &c.viewer.1, PASSWORD).await),
        Role::OrgMember => Some(log_in(app, &c.member.1, PASSWORD).await),
        Role::OrgAdmin => Some(log_in(app, &c.org_admin.1, PASSWORD).await),
        Role::OrgOwner => Some(log_in(app, &c.owner.1, PASSWORD).await),
        Role::SuperAdmin => Some(log_in(app, &c.admin.1, PASSWORD).await),
        Role::Impersonating => {
            let admin = log_in(app, &c.admin.1, PASSWORD).await;
            Some(impersonating(app, &admin).await)
        }
    }
}

/// Fresh arguments for one call of `endpoint` (targets are new each time, so an
/// allowed change always has something to change).
async fn args(app: &TestApp, c: &Cast, endpoint: &str) -> Vec<(&'static str, String)> {
    let fresh = || app.customer(Some("starter"));
    match endpoint {
        "admin_user" => vec![("id", c.user.0.to_string())],
        "admin_org" => vec![("id", c.org.to_string())],
        "admin_users" | "admin_orgs" => vec![("q", "o".into()), ("page", "1".into())],
        "admin_audit" => vec![("action", "user.".into())],
        "admin_user_disable" | "admin_send_reset" => {
            vec![("id", fresh().await.user_id.to_string())]
        }
        "admin_user_enable" => {
            let victim = fresh().await;
            sqlx::query("UPDATE users SET disabled_at = now() WHERE id = $1")
                .bind(victim.user_id)
                .execute(&app.tollgate.pool)
                .await
                .unwrap();
            vec![("id", victim.user_id.to_string())]
        }
        "admin_extend_trial" => vec![
            ("account_id", fresh().await.account_id.to_string()),
            ("days", "3".into()),
        ],
        "admin_apply_credit" => vec![
            ("account_id", fresh().await.account_id.to_string()),
            ("amount", "5.00".into()),
            ("currency", "USD".into()),
            ("reason", "matrix".into()),
        ],
        "admin_impersonate" => vec![
            ("id", fresh().await.user_id.to_string()),
            ("reason", "matrix".into()),
        ],
        "admin_invoices" => vec![("status", "open".into()), ("page", "1".into())],
        "admin_preview_change" => vec![
            ("account_id", fresh().await.account_id.to_string()),
            ("plan", "pro".into()),
            ("interval", "month".into()),
            ("timing", "now".into()),
        ],
        "admin_change_plan" => vec![
            ("account_id", fresh().await.account_id.to_string()),
            ("plan", "pro".into()),
            ("interval", "month".into()),
            ("timing", "now".into()),
        ],
        "admin_cancel_subscription" => vec![("account_id", fresh().await.account_id.to_string())],
        "admin_reactivate_subscription" => {
            let account = fresh().await.account_id;
            tollgate::service::provider::cancel(
                &app.tollgate,
                account,
                &Actor::Cli,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
            vec![("account_id", account.to_string())]
        }
        "admin_set_terms" => vec![
            ("account_id", fresh().await.account_id.to_string()),
            ("net_terms_days", "30".into()),
            ("external_id", format!("crm-{}", Uuid::now_v7().simple())),
        ],
        "admin_platform_key_create" => vec![("name", "matrix".into())],
        "admin_platform_key_revoke" => {
            let key = tollgate::service::keys::create_platform_key(
                &app.tollgate.pool,
                "matrix",
                &Actor::Cli,
            )
            .await
            .unwrap();
            vec![("id", key.key.id.to_string())]
        }
        "admin_apply_coupon" => vec![
            ("account_id", fresh().await.account_id.to_string()),
            ("coupon", "nonprofit".into()),
            ("verified_by", "matrix registry check".into()),
        ],
        "admin_remove_coupon" => {
            let account = fresh().await.account_id;
            tollgate::service::coupons::apply(
                &app.tollgate,
                &Actor::Cli,
                account,
                "nonprofit",
                None,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
            vec![("account_id", account.to_string())]
        }
        "admin_preview_edit" | "admin_publish_edit" => {
            // A new limit each call, so an allowed publication always changes something.
            let included = (1000 + Uuid::now_v7().as_u128() % 100_000).to_string();
            let base = tollgate::db::catalog::latest_version(&app.tollgate.pool)
                .await
                .unwrap()
                .unwrap()
                .version;
            vec![
                ("kind", "limit".into()),
                ("plan", "starter".into()),
                ("target", "queries".into()),
                ("value", included),
                ("enforcement", "soft".into()),
                ("grace_percent", String::new()),
                ("base_version", base.to_string()),
            ]
        }
        "admin_preview_price_move" | "admin_move_to_current_price" => {
            // A fresh Starter subscriber keeping an older price each call, so an
            // allowed move always has someone to move.
            let account = fresh().await.account_id;
            let catalog = app.tollgate.catalog.get().unwrap();
            let mut kept = catalog
                .plan("starter")
                .and_then(|p| p.price(tollgate::period::Interval::Month))
                .cloned()
                .unwrap();
            kept.amount.amount = rust_decimal::Decimal::from(15);
            sqlx::query("UPDATE subscriptions SET grandfathered_price = $2, grandfathered_at = now() WHERE account_id = $1 AND status <> 'canceled'")
                .bind(account)
                .bind(sqlx::types::Json(kept))
                .execute(&app.tollgate.pool)
                .await
                .unwrap();
            let expected = tollgate::db::subscriptions::grandfathered(
                &app.tollgate.pool,
                "starter",
                tollgate::period::Interval::Month,
            )
            .await
            .unwrap()
            .len();
            vec![
                ("plan", "starter".into()),
                ("interval", "month".into()),
                ("expected", expected.to_string()),
            ]
        }
        "admin_usage" => vec![
            ("plan", "starter".into()),
            ("state", "ok".into()),
            ("sort", "name".into()),
            ("page", "1".into()),
        ],
        "admin_subscriptions" => vec![("plan", "starter".into()), ("page", "1".into())],
        "admin_usage_charts" => vec![("user", c.user.0.to_string()), ("meter", "queries".into())],
        "admin_set_override" => vec![
            ("account_id", fresh().await.account_id.to_string()),
            ("target", "limit:queries".into()),
            ("included", "100".into()),
            ("reason", "matrix".into()),
        ],
        "admin_void_usage" => vec![
            ("account_id", fresh().await.account_id.to_string()),
            ("keys", "never-sent".into()),
            ("reason", "matrix".into()),
            ("confirm", "yes".into()),
        ],
        "admin_remove_override" => {
            let account = fresh().await.account_id;
            let input = tollgate::overrides::Input {
                kind: "limit",
                key: "queries",
                included: "100",
                ..Default::default()
            };
            tollgate::service::admin::overrides::set(
                &app.tollgate,
                &Actor::Cli,
                account,
                &input,
                "matrix",
                None,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
            vec![
                ("account_id", account.to_string()),
                ("kind", "limit".into()),
                ("key", "queries".into()),
            ]
        }
        "admin_invoice_status" => {
            let invoice = support::billing::open_invoice(app, fresh().await.account_id).await;
            vec![("id", invoice.to_string()), ("status", "paid".into())]
        }
        _ => Vec::new(),
    }
}

const ADMIN_FNS: [&str; 37] = [
    "get_admin_overview",
    "admin_users",
    "admin_user",
    "admin_orgs",
    "admin_org",
    "admin_audit",
    "admin_user_disable",
    "admin_user_enable",
    "admin_extend_trial",
    "admin_apply_credit",
    "admin_send_reset",
    "admin_impersonate",
    "admin_invoices",
    "admin_subscriptions",
    "admin_invoice_status",
    "admin_set_override",
    "admin_remove_override",
    "admin_void_usage",
    "admin_usage",
    "admin_usage_charts",
    "admin_costs",
    "admin_preview_change",
    "admin_change_plan",
    "admin_cancel_subscription",
    "admin_reactivate_subscription",
    "admin_set_terms",
    "admin_platform_keys",
    "admin_platform_key_create",
    "admin_platform_key_flash",
    "admin_platform_key_revoke",
    "admin_apply_coupon",
    "admin_remove_coupon",
    "admin_plans",
    "admin_preview_edit",
    "admin_publish_edit",
    "admin_preview_price_move",
    "admin_move_to_current_price",
];

/// Only a super admin acting as themself.
fn admin_rule(role: Role) -> Outcome {
    match role {
        Role::Anonymous => Outcome::SignIn,
        Role::SuperAdmin => Outcome::Allowed,
        Role::User
        | Role::OrgViewer
        | Role::OrgMember
        | Role::OrgAdmin
        | Role::OrgOwner
        | Role::Impersonating => Outcome::Forbidden,
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn admin_server_functions_refuse_everyone_but_a_super_admin(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = cast(&app).await;
    let mut failures = Vec::new();
    for endpoint in ADMIN_FNS {
        let endpoint = if endpoint == "get_admin_overview" {
            "admin_overview"
        } else {
            endpoint
        };
        for role in ROLES {
            let cookie = session(&app, &c, role).await;
            let a = args(&app, &c, endpoint).await;
            let (got, body) = fn_outcome(call(&app, endpoint, cookie.as_deref(), &a).await).await;
            if got != admin_rule(role) {
                failures.push(format!(
                    "{endpoint} as {role:?}: expected {:?}, got {got:?}: {body}",
                    admin_rule(role)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[sqlx::test(migrations = "../migrations")]
async fn admin_pages_redirect_or_refuse_everyone_but_a_super_admin(
    _pool_options: sqlx::postgres::PgPoolOptions,
    db: sqlx::postgres::PgConnectOptions,
) {
    // The server's default pool size (20), not `#[sqlx::test]`'s 5: this test
    // renders ~120 pages, each with its resources in parallel.
    let pool = support::pool_of_20(db).await;
    let app = spawn_app(pool).await;
    let c = cast(&app).await;
    let pages = [
        "/admin".to_string(),
        "/admin/users?q=user".to_string(),
        format!("/admin/users/{}", c.user.0),
        "/admin/organizations".to_string(),
        format!("/admin/organizations/{}", c.org),
        "/admin/audit?action=user.".to_string(),
        "/admin/billing/invoices?status=open".to_string(),
        "/admin/billing/subscriptions?plan=starter".to_string(),
        "/admin/usage?plan=starter&sort=name".to_string(),
        "/admin/costs?month=2026-11".to_string(),
        "/admin/keys".to_string(),
        "/admin/plans?plan=starter&meter=queries&included=900".to_string(),
    ];
    let mut failures = Vec::new();
    for role in ROLES {
        // Reading pages changes nothing: one session per role.
        let cookie = session(&app, &c, role).await;
        for path in &pages {
            let (got, body) = page_outcome(&app, path, cookie.as_deref()).await;
            if got != admin_rule(role) {
                failures.push(format!(
                    "{path} as {role:?}: expected {:?}, got {got:?}",
                    admin_rule(role)
                ));
            }
            if got == Outcome::Forbidden && !body.contains("Not allowed") {
                failures.push(format!("{path} as {role:?}: the 403 page explains nothing"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[sqlx::test(migrations = "../migrations")]
async fn only_an_impersonation_can_be_stopped(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = cast(&app).await;
    for role in ROLES {
        let cookie = session(&app, &c, role).await;
        let expected = match role {
            Role::Anonymous => Outcome::SignIn,
            Role::Impersonating => Outcome::Allowed,
            _ => Outcome::Forbidden,
        };
        let (got, body) =
            fn_outcome(call(&app, "impersonation_stop", cookie.as_deref(), &[]).await).await;
        assert_eq!(got, expected, "impersonation_stop as {role:?}: {body}");
    }
}

/// The analytics export is the super admin's alone: 401 signed out, 403 for
/// everyone else (an impersonating super admin too), and the monthly CSV for them.
#[sqlx::test(migrations = "../migrations")]
async fn the_analytics_csv_is_for_a_super_admin_only(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = cast(&app).await;
    for role in ROLES {
        let cookie = session(&app, &c, role).await;
        let mut req = app.http.get(app.url("/admin/analytics.csv"));
        if let Some(cookie) = cookie.as_deref() {
            req = req.header(reqwest::header::COOKIE, cookie);
        }
        let res = req.send().await.unwrap();
        let expected = match admin_rule(role) {
            Outcome::SignIn => 401,
            Outcome::Allowed => 200,
            _ => 403,
        };
        assert_eq!(
            res.status().as_u16(),
            expected,
            "/admin/analytics.csv as {role:?}"
        );
        if expected == 200 {
            let body = res.text().await.unwrap();
            let lines: Vec<&str> = body.lines().collect();
            assert!(
                lines[0].starts_with("month,month_start,month_end,partial,currency,opening_mrr,"),
                "{}",
                lines[0]
            );
            assert_eq!(lines.len(), 13, "a header and twelve months");
            assert!(
                lines[12].contains(",true,USD,"),
                "the current month is partial: {}",
                lines[12]
            );
        }
    }
}

//! The organization authorization matrix: every server function and route that
//! reads or changes organization data, called over HTTP by every role, is allowed
//! or refused as the rules say. Table-driven: a new role (such as an impersonating
//! super admin) is one more [`Who`] with its session and one more column in the
//! expectations.

use crate::support;

use reqwest::header::{COOKIE, LOCATION};
use sqlx::PgPool;
use std::collections::HashMap;
use support::{spawn_app, TestApp, PASSWORD};
use tollgate::period::Interval;
use tollgate::service::accounts::Role;
use tollgate::service::organizations::{self as orgs, invitations, seats};
use tollgate::service::{plans, Actor};
use uuid::Uuid;

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Anonymous,
    Viewer,
    Member,
    Admin,
    Owner,
    /// The admin of another organization.
    OtherAdmin,
    /// A super admin who is not a member.
    SuperAdmin,
    /// A super admin impersonating a member: exactly the member's powers.
    ImpersonatingMember,
    /// A super admin impersonating a user outside the organization: an outsider.
    ImpersonatingOutsider,
}

/// Owner last, so that a case that changes the owner's standing (transfer) runs
/// after everyone else tried it.
const EVERYONE: [Who; 9] = [
    Who::Anonymous,
    Who::Viewer,
    Who::Member,
    Who::Admin,
    Who::OtherAdmin,
    Who::SuperAdmin,
    Who::ImpersonatingMember,
    Who::ImpersonatingOutsider,
    Who::Owner,
];
const MEMBERS: &[Who] = &[
    Who::Viewer,
    Who::Member,
    Who::ImpersonatingMember,
    Who::Admin,
    Who::Owner,
];
const MANAGERS: &[Who] = &[Who::Admin, Who::Owner];
const OWNER: &[Who] = &[Who::Owner];
const NON_OWNERS: &[Who] = &[
    Who::Viewer,
    Who::Member,
    Who::ImpersonatingMember,
    Who::Admin,
];

struct World {
    app: TestApp,
    org: Uuid,
    slug: String,
    owner: Uuid,
    cookies: HashMap<Who, String>,
    users: HashMap<Who, Uuid>,
    /// A password hash to give throwaway users.
    hash: String,
}

/// Logs in through the form; the session cookie.
async fn log_in(app: &TestApp, email: &str) -> String {
    support::admin::log_in(app, email, PASSWORD).await
}

/// A new session of the super admin `admin_email`, impersonating `user_id` (with a
/// reason, over HTTP); returns its cookie, rotated when the impersonation started.
async fn impersonate(app: &TestApp, admin_email: &str, user_id: Uuid) -> String {
    let admin = log_in(app, admin_email).await;
    let res = app
        .http
        .post(app.url("/_fn/admin_impersonate"))
        .header(COOKIE, &admin)
        .form(&[
            ("id", user_id.to_string()),
            ("reason", "authorization matrix".to_string()),
        ])
        .send()
        .await
        .unwrap();
    let cookie = support::admin::session_cookie(&res);
    let status = res.status();
    assert!(
        status.as_u16() < 400,
        "impersonation starts: {status} {}",
        res.text().await.unwrap_or_default()
    );
    let cookie = cookie.expect("the session id rotates when impersonation starts");
    assert_ne!(cookie, admin);
    cookie
}

async fn world(pool: PgPool) -> World {
    let app = spawn_app(pool.clone()).await;
    let t = app.tollgate.clone();
    let mut cookies = HashMap::new();
    let mut users = HashMap::new();
    let owner = app.customer(None).await;
    let owner_actor = Actor::user(owner.user_id);
    let org = orgs::create(
        &t.pool,
        "Matrix Inc",
        "matrix",
        "billing@matrix.example",
        owner.user_id,
        &owner_actor,
    )
    .await
    .unwrap();
    plans::choose(
        &t,
        org,
        "team",
        Interval::Month,
        plans::Chooser::Customer,
        &owner_actor,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    seats::set_seats(
        &t,
        org,
        owner.user_id,
        100,
        &owner_actor,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let owner_row = tollgate::db::users::by_id(&t.pool, owner.user_id)
        .await
        .unwrap()
        .unwrap();
    for (who, role) in [
        (Who::Viewer, Role::Viewer),
        (Who::Member, Role::Member),
        (Who::ImpersonatingMember, Role::Member),
        (Who::Admin, Role::Admin),
    ] {
        let c = app.customer(None).await;
        let u = tollgate::db::users::by_id(&t.pool, c.user_id)
            .await
            .unwrap()
            .unwrap();
        let sent = invitations::invite(
            &t,
            org,
            &owner_row,
            &c.email,
            role,
            &owner_actor,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        invitations::accept(&t, &sent.token, &u, &Actor::user(u.id), chrono::Utc::now())
            .await
            .unwrap();
        cookies.insert(who, log_in(&app, &c.email).await);
        users.insert(who, c.user_id);
    }
    let other = app.customer(None).await;
    orgs::create(
        &t.pool,
        "Other Org",
        "other",
        "billing@other.example",
        other.user_id,
        &Actor::user(other.user_id),
    )
    .await
    .unwrap();
    cookies.insert(Who::OtherAdmin, log_in(&app, &other.email).await);
    users.insert(Who::OtherAdmin, other.user_id);
    let sup = app.customer(None).await;
    sqlx::query("UPDATE users SET is_super_admin = true WHERE id = $1")
        .bind(sup.user_id)
        .execute(&pool)
        .await
        .unwrap();
    cookies.insert(Who::SuperAdmin, log_in(&app, &sup.email).await);
    users.insert(Who::SuperAdmin, sup.user_id);
    // The impersonating super admin: the member's session above is replaced by the
    // admin's own session viewing as that member.
    let member = users[&Who::ImpersonatingMember];
    cookies.insert(
        Who::ImpersonatingMember,
        impersonate(&app, &sup.email, member).await,
    );
    let outsider = app.customer(None).await;
    cookies.insert(
        Who::ImpersonatingOutsider,
        impersonate(&app, &sup.email, outsider.user_id).await,
    );
    users.insert(Who::ImpersonatingOutsider, outsider.user_id);
    cookies.insert(Who::Owner, log_in(&app, &owner.email).await);
    users.insert(Who::Owner, owner.user_id);
    let hash = owner_row.password_hash.clone();
    World {
        app,
        org,
        slug: "matrix".into(),
        owner: owner.user_id,
        cookies,
        users,
        hash,
    }
}

impl World {
    /// A throwaway member with `role` (no password hashing: the hash is copied).
    async fn throwaway_member(&self, role: &str) -> Uuid {
        let id = Uuid::now_v7();
        let mut tx = self.app.tollgate.pool.begin().await.unwrap();
        tollgate::db::users::insert(
            &mut *tx,
            id,
            &format!("t-{}@test.example", id.simple()),
            "Throwaway",
            &self.hash,
            false,
            false,
        )
        .await
        .unwrap();
        tollgate::db::accounts::insert_personal(&mut tx, Uuid::now_v7(), id, "Throwaway")
            .await
            .unwrap();
        tollgate::db::accounts::insert_membership(&mut *tx, self.org, id, role)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    async fn pending_invitation(&self) -> Uuid {
        let owner = tollgate::db::users::by_id(&self.app.tollgate.pool, self.owner)
            .await
            .unwrap()
            .unwrap();
        let email = format!("i-{}@test.example", Uuid::now_v7().simple());
        invitations::invite(
            &self.app.tollgate,
            self.org,
            &owner,
            &email,
            Role::Member,
            &Actor::user(self.owner),
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .id
    }

    async fn call(&self, who: Who, endpoint: &str, form: &[(&str, String)]) -> (u16, String) {
        let mut req = self
            .app
            .http
            .post(self.app.url(&format!("/_fn/{endpoint}")))
            .form(form);
        if let Some(c) = self.cookies.get(&who) {
            req = req.header(COOKIE, c);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap_or_default())
    }

    async fn get(&self, who: Who, path: &str) -> (u16, String) {
        let mut req = self
            .app
            .http
            .get(self.app.url(path))
            .header("accept", "text/html");
        if let Some(c) = self.cookies.get(&who) {
            req = req.header(COOKIE, c);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, location)
    }

    /// The interval the organization is not billed at now (a change that can succeed).
    async fn other_interval(&self) -> String {
        let sub = tollgate::db::subscriptions::live_for_account(&self.app.tollgate.pool, self.org)
            .await
            .unwrap()
            .unwrap();
        if sub.interval == "month" {
            "year"
        } else {
            "month"
        }
        .to_string()
    }

    /// Makes `who`'s pages act for the organization (members only).
    async fn act_for_org(&self, who: Who) {
        if MEMBERS.contains(&who) {
            let (status, body) = self
                .call(
                    who,
                    "switch_account",
                    &[("account_id", self.org.to_string())],
                )
                .await;
            assert!(status < 400, "{who:?} switches: {status} {body}");
        }
    }
}

/// A server function's answer: allowed (2xx/3xx) or refused.
fn allowed(status: u16) -> bool {
    (200..400).contains(&status)
}

/// One row of the matrix: an endpoint and who may call it.
#[derive(Debug, Clone, Copy)]
enum Case {
    Org,
    Members,
    Usage,
    UsageHistory,
    Update,
    Billing,
    Security,
    ChoosePlan,
    Seats,
    Invite,
    Resend,
    Revoke,
    ChangeRole,
    Remove,
    Switch,
    /// `api_key_create` while acting for the organization.
    ApiKeyForOrg,
    /// `choose_plan` while acting for the organization.
    PlanForOrg,
    Leave,
    Transfer,
}

impl Case {
    fn endpoint(self) -> &'static str {
        match self {
            Case::Org => "org",
            Case::Members => "org_members",
            Case::Usage => "org_usage",
            Case::UsageHistory => "org_usage_history",
            Case::Update => "org_update",
            Case::Billing => "org_billing",
            Case::Security => "org_security",
            Case::ChoosePlan => "org_choose_plan",
            Case::Seats => "org_seats",
            Case::Invite => "org_invite",
            Case::Resend => "org_invitation_resend",
            Case::Revoke => "org_invitation_revoke",
            Case::ChangeRole => "org_member_role",
            Case::Remove => "org_member_remove",
            Case::Switch => "switch_account",
            Case::ApiKeyForOrg => "api_key_create",
            Case::PlanForOrg => "choose_plan",
            Case::Leave => "org_leave",
            Case::Transfer => "org_transfer",
        }
    }

    /// Who is allowed.
    fn allowed(self) -> &'static [Who] {
        match self {
            Case::Org | Case::Members | Case::Usage | Case::UsageHistory | Case::Switch => MEMBERS,
            Case::Update
            | Case::Billing
            | Case::Security
            | Case::Invite
            | Case::Resend
            | Case::Revoke
            | Case::ChangeRole
            | Case::Remove
            | Case::ApiKeyForOrg => MANAGERS,
            Case::ChoosePlan | Case::Seats | Case::PlanForOrg | Case::Transfer => OWNER,
            Case::Leave => NON_OWNERS,
        }
    }

    /// Who is asked (the cases acting through the session's account only make sense
    /// for members: anyone else acts for their own account).
    fn callers(self) -> &'static [Who] {
        match self {
            Case::ApiKeyForOrg | Case::PlanForOrg => MEMBERS,
            _ => &EVERYONE,
        }
    }

    /// The form, after preparing what the call acts on.
    async fn form(self, w: &World, who: Who, attempt: usize) -> Vec<(&'static str, String)> {
        let slug = ("slug", w.slug.clone());
        match self {
            Case::Org
            | Case::Members
            | Case::Usage
            | Case::UsageHistory
            | Case::Billing
            | Case::Security
            | Case::Leave => vec![slug],
            Case::Update => vec![
                slug,
                ("name", format!("Matrix {attempt}")),
                ("billing_email", "b@matrix.example".into()),
            ],
            Case::ChoosePlan => vec![
                slug,
                ("plan", "team".into()),
                ("interval", w.other_interval().await),
            ],
            Case::Seats => vec![slug, ("seats", (100 + attempt).to_string())],
            Case::Invite => vec![
                slug,
                (
                    "email",
                    format!("new-{attempt}-{}@test.example", Uuid::now_v7().simple()),
                ),
                ("role", "member".into()),
            ],
            Case::Resend | Case::Revoke => {
                vec![slug, ("id", w.pending_invitation().await.to_string())]
            }
            Case::ChangeRole => vec![
                slug,
                ("user_id", w.throwaway_member("member").await.to_string()),
                ("role", "viewer".into()),
            ],
            Case::Remove | Case::Transfer => vec![
                slug,
                ("user_id", w.throwaway_member("member").await.to_string()),
            ],
            Case::Switch => vec![("account_id", w.org.to_string())],
            Case::ApiKeyForOrg => {
                w.act_for_org(who).await;
                vec![("name", format!("key {attempt}"))]
            }
            Case::PlanForOrg => {
                w.act_for_org(who).await;
                vec![
                    ("plan", "team".into()),
                    ("interval", w.other_interval().await),
                ]
            }
        }
    }
}

/// Leave and transfer change who belongs: they come last, in this order.
const CASES: [Case; 19] = [
    Case::Org,
    Case::Members,
    Case::Usage,
    Case::UsageHistory,
    Case::Update,
    Case::Billing,
    Case::Security,
    Case::ChoosePlan,
    Case::Seats,
    Case::Invite,
    Case::Resend,
    Case::Revoke,
    Case::ChangeRole,
    Case::Remove,
    Case::Switch,
    Case::ApiKeyForOrg,
    Case::PlanForOrg,
    Case::Leave,
    Case::Transfer,
];

#[sqlx::test(migrations = "../migrations")]
async fn every_org_server_function_allows_exactly_the_right_roles(pool: PgPool) {
    let w = world(pool).await;
    let mut failures = Vec::new();
    let mut attempt = 0;
    for case in CASES {
        for &who in case.callers() {
            attempt += 1;
            let form = case.form(&w, who, attempt).await;
            let (status, body) = w.call(who, case.endpoint(), &form).await;
            let expected = case.allowed().contains(&who);
            if allowed(status) != expected {
                failures.push(format!(
                    "{case:?} by {who:?}: expected {}, got {status} {body}",
                    if expected { "allowed" } else { "refused" }
                ));
            }
            // Outsiders learn nothing: the answer names no organization data.
            if !expected && !MEMBERS.contains(&who) && body.contains("Matrix") {
                failures.push(format!(
                    "{case:?} by {who:?} leaked the organization: {body}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix:\n{}",
        failures.join("\n")
    );
    // The owner's transfer went through last: one owner, who is not the old owner.
    let owners: Vec<Uuid> = sqlx::query_scalar(
        "SELECT user_id FROM memberships WHERE account_id = $1 AND role = 'owner'",
    )
    .bind(w.org)
    .fetch_all(&w.app.tollgate.pool)
    .await
    .unwrap();
    assert_eq!(owners.len(), 1);
    assert_ne!(owners[0], w.owner);
    // What the impersonating super admin changed (leaving, at least) is audited with
    // both the member and the admin.
    let audited: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE actor_user_id = $1 AND impersonator_user_id = $2 ORDER BY id")
        .bind(w.users[&Who::ImpersonatingMember])
        .bind(w.users[&Who::SuperAdmin])
        .fetch_all(&w.app.tollgate.pool)
        .await
        .unwrap();
    assert!(
        audited.iter().any(|a| a.starts_with("membership.")),
        "{audited:?}"
    );
}

/// The pages: members see theirs, managers the billing and security pages, and
/// outsiders get 404 (the slug does not leak); signed-out visitors go to log-in.
#[sqlx::test(migrations = "../migrations")]
async fn org_pages_and_the_live_stream_answer_by_role(pool: PgPool) {
    let w = world(pool).await;
    let pages: [(&str, &[Who]); 5] = [
        ("usage", MEMBERS),
        ("members", MEMBERS),
        ("settings", MEMBERS),
        ("billing", MANAGERS),
        ("security", MANAGERS),
    ];
    let mut failures = Vec::new();
    for (page, allowed_roles) in pages {
        for who in EVERYONE {
            let (status, location) = w.get(who, &format!("/orgs/{}/{page}", w.slug)).await;
            let expected = match who {
                Who::Anonymous => (302, format!("/login?next=%2Forgs%2Fmatrix%2F{page}")),
                w if allowed_roles.contains(&w) => (200, String::new()),
                w if MEMBERS.contains(&w) => (403, String::new()),
                _ => (404, String::new()),
            };
            if (status, location.clone()) != expected {
                failures.push(format!(
                    "GET {page} by {who:?}: expected {expected:?}, got {status} {location}"
                ));
            }
        }
    }
    // An organization that does not exist answers like one the caller is not in.
    assert_eq!(w.get(Who::Admin, "/orgs/no-such-org/members").await.0, 404);
    for who in EVERYONE {
        let mut req = w.app.http.get(w.app.url("/live/usage?org=matrix"));
        if let Some(c) = w.cookies.get(&who) {
            req = req.header(COOKIE, c);
        }
        let status = req.send().await.unwrap().status().as_u16();
        let expected = match who {
            Who::Anonymous => 401,
            w if MEMBERS.contains(&w) => 200,
            _ => 404,
        };
        if status != expected {
            failures.push(format!(
                "live stream by {who:?}: expected {expected}, got {status}"
            ));
        }
    }
    assert!(failures.is_empty(), "pages:\n{}", failures.join("\n"));
    let _ = &w.users;
}

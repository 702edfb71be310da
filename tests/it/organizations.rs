//! Organizations against a real PostgreSQL: role rules, invitations, seats and the
//! per-member usage.

use chrono::{Duration, Utc};
use sqlx::PgPool;
use tollgate::db::users::UserRow;
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::period::Interval;
use tollgate::service::accounts::Role;
use tollgate::service::ingest::{self, Draft};
use tollgate::service::keys::Caller;
use tollgate::service::organizations::{self as orgs, invitations, roles, seats, team_usage};
use tollgate::service::{auth, catalog, plans, Actor, Error, Settings, Tollgate};
use uuid::Uuid;

const EMTCHAT: &str = include_str!("../../catalogs/emtchat.toml");

async fn tollgate(pool: PgPool) -> Tollgate {
    catalog::load(&pool, "catalogs/emtchat.toml", EMTCHAT, &Actor::Cli)
        .await
        .unwrap();
    Tollgate::new(
        pool,
        Settings {
            public_url: "http://t".into(),
            sales_email: "s@t.example".into(),
            cookie_secure: false,
        },
    )
    .await
    .unwrap()
}

async fn user(t: &Tollgate, name: &str) -> UserRow {
    let email = format!("{name}-{}@test.example", Uuid::now_v7().simple());
    let u = auth::sign_up(
        &t.pool,
        &Email::parse(&email).unwrap(),
        &PersonName::parse(name).unwrap(),
        &NewPassword::parse("correct horse battery").unwrap(),
        false,
        None,
    )
    .await
    .unwrap();
    // They invite people and make keys: their address is confirmed (the link
    // itself is tested in services.rs).
    tollgate::db::users::set_verified(&t.pool, u.user_id)
        .await
        .unwrap();
    tollgate::db::users::by_id(&t.pool, u.user_id)
        .await
        .unwrap()
        .unwrap()
}

/// An organization on the team plan, its owner, and one member of each other role.
struct Org {
    id: Uuid,
    owner: UserRow,
    admin: UserRow,
    member: UserRow,
    viewer: UserRow,
}

async fn org(t: &Tollgate) -> Org {
    let owner = user(t, "owner").await;
    let id = orgs::create(
        &t.pool,
        "Acme",
        &format!("acme-{}", &Uuid::now_v7().simple().to_string()[20..]),
        "billing@acme.example",
        owner.id,
        &Actor::user(owner.id),
    )
    .await
    .unwrap();
    plans::choose(
        t,
        id,
        "team",
        Interval::Month,
        plans::Chooser::Customer,
        &Actor::user(owner.id),
        Utc::now(),
    )
    .await
    .unwrap();
    seats::set_seats(t, id, owner.id, 10, &Actor::user(owner.id), Utc::now())
        .await
        .unwrap();
    let mut people = Vec::new();
    for (name, role) in [
        ("admin", Role::Admin),
        ("member", Role::Member),
        ("viewer", Role::Viewer),
    ] {
        let u = user(t, name).await;
        let sent = invitations::invite(
            t,
            id,
            &owner,
            &u.email,
            role,
            &Actor::user(owner.id),
            Utc::now(),
        )
        .await
        .unwrap();
        invitations::accept(t, &sent.token, &u, &Actor::user(u.id), Utc::now())
            .await
            .unwrap();
        people.push(u);
    }
    let viewer = people.pop().unwrap();
    let member = people.pop().unwrap();
    let admin = people.pop().unwrap();
    Org {
        id,
        owner,
        admin,
        member,
        viewer,
    }
}

async fn role_of(t: &Tollgate, org: Uuid, user: Uuid) -> Option<String> {
    tollgate::db::accounts::role_of(&t.pool, org, user)
        .await
        .unwrap()
}

async fn audited(t: &Tollgate, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(&t.pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn role_changes_follow_the_rules(pool: PgPool) {
    let t = tollgate(pool).await;
    let o = org(&t).await;
    let act = |u: &UserRow| Actor::user(u.id);
    // An admin manages members and viewers…
    roles::change_role(
        &t.pool,
        o.id,
        o.admin.id,
        o.member.id,
        Role::Viewer,
        &act(&o.admin),
    )
    .await
    .unwrap();
    assert_eq!(
        role_of(&t, o.id, o.member.id).await.as_deref(),
        Some("viewer")
    );
    roles::change_role(
        &t.pool,
        o.id,
        o.admin.id,
        o.member.id,
        Role::Member,
        &act(&o.admin),
    )
    .await
    .unwrap();
    // …but makes no admins and touches neither admins nor the owner.
    let e = roles::change_role(
        &t.pool,
        o.id,
        o.admin.id,
        o.member.id,
        Role::Admin,
        &act(&o.admin),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e}");
    let e = roles::change_role(
        &t.pool,
        o.id,
        o.admin.id,
        o.owner.id,
        Role::Member,
        &act(&o.admin),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e}");
    // Members and viewers change nothing.
    for who in [&o.member, &o.viewer] {
        let e = roles::change_role(&t.pool, o.id, who.id, o.viewer.id, Role::Member, &act(who))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Forbidden(_)), "{e}");
    }
    // The owner makes an admin, and nobody is made owner by a role change.
    roles::change_role(
        &t.pool,
        o.id,
        o.owner.id,
        o.member.id,
        Role::Admin,
        &act(&o.owner),
    )
    .await
    .unwrap();
    assert_eq!(
        role_of(&t, o.id, o.member.id).await.as_deref(),
        Some("admin")
    );
    let e = roles::change_role(
        &t.pool,
        o.id,
        o.owner.id,
        o.member.id,
        Role::Owner,
        &act(&o.owner),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e}");
    // An outsider learns nothing.
    let stranger = user(&t, "stranger").await;
    let e = roles::change_role(
        &t.pool,
        o.id,
        stranger.id,
        o.viewer.id,
        Role::Member,
        &act(&stranger),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e}");
    assert_eq!(audited(&t, "membership.role_changed").await, 3);
}

#[sqlx::test]
async fn removal_leaving_and_the_one_owner(pool: PgPool) {
    let t = tollgate(pool).await;
    let o = org(&t).await;
    let act = |u: &UserRow| Actor::user(u.id);
    // Nobody removes the owner, not even the owner.
    for who in [&o.admin, &o.owner] {
        assert!(roles::remove(&t.pool, o.id, who.id, o.owner.id, &act(who))
            .await
            .is_err());
    }
    assert!(
        roles::leave(&t.pool, o.id, o.owner.id, &act(&o.owner))
            .await
            .is_err(),
        "the owner transfers before leaving"
    );
    // An admin removes a viewer, not another admin.
    let e = roles::remove(&t.pool, o.id, o.member.id, o.viewer.id, &act(&o.member))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)));
    roles::remove(&t.pool, o.id, o.admin.id, o.viewer.id, &act(&o.admin))
        .await
        .unwrap();
    assert_eq!(role_of(&t, o.id, o.viewer.id).await, None);
    // The removed viewer can no longer act in the organization at all.
    let e = roles::leave(&t.pool, o.id, o.viewer.id, &act(&o.viewer))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)));
    // A member leaves.
    roles::leave(&t.pool, o.id, o.member.id, &act(&o.member))
        .await
        .unwrap();
    assert_eq!(role_of(&t, o.id, o.member.id).await, None);
    assert_eq!(audited(&t, "membership.removed").await, 1);
    assert_eq!(audited(&t, "membership.left").await, 1);
}

#[sqlx::test]
async fn only_the_owner_transfers_ownership(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let o = org(&t).await;
    let e = roles::transfer_ownership(
        &t.pool,
        o.id,
        o.admin.id,
        o.admin.id,
        &Actor::user(o.admin.id),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)));
    roles::transfer_ownership(
        &t.pool,
        o.id,
        o.owner.id,
        o.member.id,
        &Actor::user(o.owner.id),
    )
    .await
    .unwrap();
    assert_eq!(
        role_of(&t, o.id, o.member.id).await.as_deref(),
        Some("owner")
    );
    assert_eq!(
        role_of(&t, o.id, o.owner.id).await.as_deref(),
        Some("admin")
    );
    let owners: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memberships WHERE account_id = $1 AND role = 'owner'",
    )
    .bind(o.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(owners, 1);
    // The former owner may now leave; the new one may not.
    roles::leave(&t.pool, o.id, o.owner.id, &Actor::user(o.owner.id))
        .await
        .unwrap();
    assert!(
        roles::leave(&t.pool, o.id, o.member.id, &Actor::user(o.member.id))
            .await
            .is_err()
    );
    assert_eq!(audited(&t, "organization.ownership_transferred").await, 1);
}

#[sqlx::test]
async fn invitations_are_single_use_expire_and_name_one_address(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let o = org(&t).await;
    let guest = user(&t, "guest").await;
    let other = user(&t, "other").await;
    let owner = Actor::user(o.owner.id);
    let sent = invitations::invite(
        &t,
        o.id,
        &o.owner,
        &guest.email.to_uppercase(),
        Role::Member,
        &owner,
        Utc::now(),
    )
    .await
    .unwrap();
    // Only the hash is stored, and the e-mail is in the outbox.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM invitations WHERE id = $1")
        .bind(sent.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, invitations::hash_token(&sent.token));
    let ctx: serde_json::Value = sqlx::query_scalar(
        "SELECT context FROM email_outbox WHERE template = 'invitation' AND to_address = $1",
    )
    .bind(&guest.email)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ctx["link"], format!("http://t/invite/{}", sent.token));
    assert_eq!(ctx["role"], "member");
    assert_eq!(ctx["inviter"]["name"], "owner");
    // Inviting the same address twice is refused while the first is pending.
    assert!(invitations::invite(
        &t,
        o.id,
        &o.owner,
        &guest.email,
        Role::Viewer,
        &owner,
        Utc::now()
    )
    .await
    .is_err());
    // Another address cannot accept.
    let e = invitations::accept(&t, &sent.token, &other, &Actor::user(other.id), Utc::now())
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Forbidden(ref m) if m.contains("another e-mail address")),
        "{e}"
    );
    // Expired.
    let late = Utc::now() + Duration::days(invitations::VALID_DAYS) + Duration::minutes(1);
    let e = invitations::accept(&t, &sent.token, &guest, &Actor::user(guest.id), late)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Conflict(ref m) if m.contains("expired")),
        "{e}"
    );
    // Accepted once, then used.
    invitations::accept(&t, &sent.token, &guest, &Actor::user(guest.id), Utc::now())
        .await
        .unwrap();
    assert_eq!(role_of(&t, o.id, guest.id).await.as_deref(), Some("member"));
    let e = invitations::accept(&t, &sent.token, &guest, &Actor::user(guest.id), Utc::now())
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Conflict(ref m) if m.contains("already been used")),
        "{e}"
    );
    // Members cannot invite; admins cannot invite admins.
    let e = invitations::invite(
        &t,
        o.id,
        &o.member,
        "x@test.example",
        Role::Viewer,
        &Actor::user(o.member.id),
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)));
    let e = invitations::invite(
        &t,
        o.id,
        &o.admin,
        "x@test.example",
        Role::Admin,
        &Actor::user(o.admin.id),
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)));
    assert_eq!(
        audited(&t, "invitation.accepted").await,
        4,
        "three in the fixture, one here"
    );
}

#[sqlx::test]
async fn resend_kills_the_old_link_and_revoke_kills_the_invitation(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let o = org(&t).await;
    let guest = user(&t, "guest").await;
    let admin = Actor::user(o.admin.id);
    let first = invitations::invite(
        &t,
        o.id,
        &o.admin,
        &guest.email,
        Role::Viewer,
        &admin,
        Utc::now(),
    )
    .await
    .unwrap();
    let second = invitations::resend(&t, o.id, &o.admin, first.id, &admin, Utc::now())
        .await
        .unwrap();
    assert_ne!(first.token, second.token);
    let e = invitations::accept(&t, &first.token, &guest, &Actor::user(guest.id), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e}");
    let mails: i64 = sqlx::query_scalar("SELECT count(*) FROM email_outbox WHERE to_address = $1")
        .bind(&guest.email)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mails, 2);
    // A viewer can neither list, resend nor revoke.
    assert!(invitations::pending(&t, o.id, o.viewer.id, Utc::now())
        .await
        .is_err());
    assert!(
        invitations::revoke(&t, o.id, o.viewer.id, first.id, &Actor::user(o.viewer.id))
            .await
            .is_err()
    );
    assert_eq!(
        invitations::pending(&t, o.id, o.admin.id, Utc::now())
            .await
            .unwrap()
            .len(),
        1
    );
    invitations::revoke(&t, o.id, o.admin.id, first.id, &admin)
        .await
        .unwrap();
    let e = invitations::accept(
        &t,
        &second.token,
        &guest,
        &Actor::user(guest.id),
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, Error::Conflict(ref m) if m.contains("withdrawn")),
        "{e}"
    );
    assert!(invitations::pending(&t, o.id, o.admin.id, Utc::now())
        .await
        .unwrap()
        .is_empty());
    // A new invitation to the same address works after a revoke.
    let third = invitations::invite(
        &t,
        o.id,
        &o.admin,
        &guest.email,
        Role::Viewer,
        &admin,
        Utc::now(),
    )
    .await
    .unwrap();
    invitations::accept(&t, &third.token, &guest, &Actor::user(guest.id), Utc::now())
        .await
        .unwrap();
    assert_eq!(audited(&t, "invitation.resent").await, 1);
    assert_eq!(audited(&t, "invitation.revoked").await, 1);
}

#[sqlx::test]
async fn seats_limit_invitations_and_only_the_owner_adds_them(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let owner = user(&t, "owner").await;
    let me = Actor::user(owner.id);
    let id = orgs::create(
        &t.pool,
        "Seats",
        "seats-org",
        "b@seats.example",
        owner.id,
        &me,
    )
    .await
    .unwrap();
    // Before a team plan nothing is bought and nothing is limited.
    let early = invitations::invite(
        &t,
        id,
        &owner,
        "early@test.example",
        Role::Member,
        &me,
        Utc::now(),
    )
    .await
    .unwrap();
    let sub = plans::choose(
        &t,
        id,
        "team",
        Interval::Month,
        plans::Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(sub.seats, 2, "the owner and the pending invitation");
    let e = invitations::invite(
        &t,
        id,
        &owner,
        "late@test.example",
        Role::Member,
        &me,
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, Error::Invalid { ref field, ref message, .. } if field == "seats" && message.contains("Add seats")),
        "{e}"
    );
    // Fewer seats than in use is refused; more applies at once and is audited.
    let e = seats::set_seats(&t, id, owner.id, 1, &me, Utc::now())
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Invalid { ref field, .. } if field == "seats"),
        "{e}"
    );
    seats::set_seats(&t, id, owner.id, 3, &me, Utc::now())
        .await
        .unwrap();
    invitations::invite(
        &t,
        id,
        &owner,
        "late@test.example",
        Role::Member,
        &me,
        Utc::now(),
    )
    .await
    .unwrap();
    let mut conn = t.pool.acquire().await.unwrap();
    let u = seats::seat_use(&t, &mut conn, id, Utc::now())
        .await
        .unwrap();
    assert_eq!((u.members, u.pending, u.purchased), (1, 2, Some(3)));
    drop(conn);
    // Revoking frees a seat; an expired invitation frees it too.
    invitations::revoke(&t, id, owner.id, early.id, &me)
        .await
        .unwrap();
    invitations::invite(
        &t,
        id,
        &owner,
        "third@test.example",
        Role::Member,
        &me,
        Utc::now(),
    )
    .await
    .unwrap();
    let later = Utc::now() + Duration::days(8);
    invitations::invite(
        &t,
        id,
        &owner,
        "fourth@test.example",
        Role::Member,
        &me,
        later,
    )
    .await
    .unwrap();
    let admin = user(&t, "admin").await;
    let sent = invitations::invite(&t, id, &owner, &admin.email, Role::Admin, &me, later)
        .await
        .unwrap();
    invitations::accept(&t, &sent.token, &admin, &Actor::user(admin.id), later)
        .await
        .unwrap();
    let full = invitations::invite(
        &t,
        id,
        &owner,
        "fifth@test.example",
        Role::Member,
        &me,
        later,
    )
    .await;
    assert!(
        full.is_err(),
        "the owner, the admin and the fourth invitation fill three seats"
    );
    // Only the owner changes seats.
    let e = seats::set_seats(&t, id, admin.id, 9, &Actor::user(admin.id), later)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e}");
    seats::set_seats(&t, id, owner.id, 5, &me, later)
        .await
        .unwrap();
    invitations::invite(
        &t,
        id,
        &owner,
        "fifth@test.example",
        Role::Member,
        &me,
        later,
    )
    .await
    .unwrap();
    assert_eq!(audited(&t, "subscription.seats_changed").await, 2);
}

#[sqlx::test]
async fn settings_are_for_owners_and_admins(pool: PgPool) {
    let t = tollgate(pool).await;
    let o = org(&t).await;
    orgs::update_settings(
        &t.pool,
        o.id,
        o.admin.id,
        "Acme Corp",
        "Money@Acme.example",
        &Actor::user(o.admin.id),
    )
    .await
    .unwrap();
    let e = orgs::update_settings(
        &t.pool,
        o.id,
        o.member.id,
        "Nope",
        "x@acme.example",
        &Actor::user(o.member.id),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)));
    let (found, role) = orgs::for_member(
        &t.pool,
        &tollgate::db::accounts::by_id(&t.pool, o.id)
            .await
            .unwrap()
            .unwrap()
            .slug
            .unwrap(),
        o.viewer.id,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        (found.name.as_str(), found.billing_email.as_deref(), role),
        ("Acme Corp", Some("money@acme.example"), Role::Viewer)
    );
    let stranger = user(&t, "stranger").await;
    assert!(orgs::for_member(&t.pool, &found.slug, stranger.id)
        .await
        .unwrap()
        .is_none());
}

#[sqlx::test]
async fn usage_is_broken_down_by_member(pool: PgPool) {
    let t = tollgate(pool).await;
    let o = org(&t).await;
    let caller = Caller::Account {
        key_id: Uuid::now_v7(),
        account_id: o.id,
    };
    let draft = |user: Option<String>, key: &str, n: i64| Draft {
        account: None,
        meter: "queries".into(),
        quantity: serde_json::json!(n),
        timestamp: None,
        user,
        idempotency_key: key.into(),
        properties: Default::default(),
    };
    let events = vec![
        draft(Some(o.member.email.clone()), "a", 1),
        draft(Some(o.member.id.to_string()), "b", 1),
        draft(Some(o.admin.email.clone()), "c", 1),
        draft(None, "d", 1),
    ];
    ingest::record(&t, &caller, events, Utc::now())
        .await
        .unwrap();
    let b = team_usage::by_member(&t, o.id, o.viewer.id, Utc::now())
        .await
        .unwrap();
    let col = b.columns.iter().position(|c| c.meter == "queries").unwrap();
    let of = |id: Option<Uuid>| {
        b.rows.iter().find(|r| r.user_id == id).unwrap().values[col]
            .normalize()
            .to_string()
    };
    assert_eq!(of(Some(o.member.id)), "2");
    assert_eq!(of(Some(o.admin.id)), "1");
    assert_eq!(of(Some(o.owner.id)), "0");
    assert_eq!(of(None), "1");
    assert_eq!(b.rows.len(), 5);
    let stranger = user(&t, "stranger").await;
    assert!(matches!(
        team_usage::by_member(&t, o.id, stranger.id, Utc::now()).await,
        Err(Error::NotFound(_))
    ));
}

/// Issue 12, "invitation relay": an organization name cannot carry a line break
/// (or another control character) into the invitation e-mail; nothing is created.
#[sqlx::test]
async fn organization_names_with_line_breaks_are_refused(pool: PgPool) {
    let t = tollgate(pool).await;
    let owner = user(&t, "owner").await;
    for name in [
        "Acme\nVisit https://evil.example to claim your prize",
        "Acme\r\nBcc: x@evil.example",
        "Acme\u{202E}",
    ] {
        let made = orgs::create(
            &t.pool,
            name,
            "relay",
            "billing@acme.example",
            owner.id,
            &Actor::user(owner.id),
        )
        .await;
        assert!(
            matches!(made, Err(Error::Invalid { ref field, .. }) if field == "name"),
            "{name:?}: {made:?}"
        );
    }
    let orgs: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE kind = 'organization'")
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!(orgs, 0);
}

/// Issue 12: API keys end with their creator's access: a removed admin's and a
/// leaving admin's keys for the organization stop working; the owner's keep on.
#[sqlx::test]
async fn an_admins_keys_end_with_their_membership(pool: PgPool) {
    use tollgate::service::keys;
    let t = tollgate(pool).await;
    let o = org(&t).await;
    roles::change_role(
        &t.pool,
        o.id,
        o.owner.id,
        o.member.id,
        Role::Admin,
        &Actor::user(o.owner.id),
    )
    .await
    .unwrap();
    let mut made = Vec::new();
    for u in [o.admin.id, o.member.id, o.owner.id] {
        made.push(
            keys::create_account_key(&t.pool, o.id, "backend", &Actor::user(u))
                .await
                .unwrap(),
        );
    }
    let [removed_key, leaving_key, owner_key] = <[_; 3]>::try_from(made).ok().unwrap();
    for k in [&removed_key, &leaving_key, &owner_key] {
        assert!(keys::authenticate(&t.pool, &k.secret).await.is_ok());
    }
    roles::remove(
        &t.pool,
        o.id,
        o.owner.id,
        o.admin.id,
        &Actor::user(o.owner.id),
    )
    .await
    .unwrap();
    roles::leave(&t.pool, o.id, o.member.id, &Actor::user(o.member.id))
        .await
        .unwrap();
    assert!(
        matches!(
            keys::authenticate(&t.pool, &removed_key.secret).await,
            Err(Error::Unauthorized)
        ),
        "a removed admin's key ends"
    );
    assert!(
        matches!(
            keys::authenticate(&t.pool, &leaving_key.secret).await,
            Err(Error::Unauthorized)
        ),
        "a leaving admin's key ends"
    );
    assert!(
        keys::authenticate(&t.pool, &owner_key.secret).await.is_ok(),
        "the owner's key keeps working"
    );
    let audited: serde_json::Value = sqlx::query_scalar(
        "SELECT details->'keys_revoked' FROM audit_log WHERE action = 'membership.removed'",
    )
    .fetch_one(&t.pool)
    .await
    .unwrap();
    assert_eq!(audited, serde_json::json!([removed_key.key.prefix]));
    // An admin made a member again: their keys end as well.
    roles::change_role(
        &t.pool,
        o.id,
        o.owner.id,
        o.viewer.id,
        Role::Admin,
        &Actor::user(o.owner.id),
    )
    .await
    .unwrap();
    let theirs = keys::create_account_key(&t.pool, o.id, "backend", &Actor::user(o.viewer.id))
        .await
        .unwrap();
    roles::change_role(
        &t.pool,
        o.id,
        o.owner.id,
        o.viewer.id,
        Role::Member,
        &Actor::user(o.owner.id),
    )
    .await
    .unwrap();
    assert!(
        matches!(
            keys::authenticate(&t.pool, &theirs.secret).await,
            Err(Error::Unauthorized)
        ),
        "a demoted admin's key ends"
    );
}

/// Issue 12: an impersonating admin cannot create API keys or transfer ownership.
#[sqlx::test]
async fn an_impersonating_admin_cannot_make_keys_or_transfer_ownership(pool: PgPool) {
    let t = tollgate(pool).await;
    let o = org(&t).await;
    let support = user(&t, "support").await;
    let as_owner = Actor::User {
        id: o.owner.id,
        impersonator: Some(support.id),
    };
    let made =
        tollgate::service::keys::create_account_key(&t.pool, o.id, "backdoor", &as_owner).await;
    assert!(matches!(made, Err(Error::Forbidden(_))), "{made:?}");
    let moved = roles::transfer_ownership(&t.pool, o.id, o.owner.id, o.admin.id, &as_owner).await;
    assert!(matches!(moved, Err(Error::Forbidden(_))), "{moved:?}");
    assert_eq!(
        role_of(&t, o.id, o.owner.id).await.as_deref(),
        Some("owner")
    );
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE account_id = $1")
        .bind(o.id)
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!(keys, 0);
}

/// A user who signed up themselves and has not opened their link yet.
async fn unverified(t: &Tollgate, name: &str) -> UserRow {
    let u = user(t, name).await;
    sqlx::query("UPDATE users SET verified_at = NULL WHERE id = $1")
        .bind(u.id)
        .execute(&t.pool)
        .await
        .unwrap();
    tollgate::db::users::by_id(&t.pool, u.id)
        .await
        .unwrap()
        .unwrap()
}

/// The token of the newest verification link mailed to `email`.
async fn verification_token(pool: &PgPool, email: &str) -> String {
    let link: String = sqlx::query_scalar(
        "SELECT context->>'link' FROM email_outbox WHERE to_address = $1 AND template = 'email_verification' ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(email)
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(link.starts_with("http://t/verify-email?token="), "{link}");
    link.rsplit_once("token=").unwrap().1.to_string()
}

/// Issue 12: an address nobody proved neither sends invitations nor owns keys;
/// a link proves it once, before it expires, for the address it was sent to.
#[sqlx::test]
async fn an_unverified_address_neither_invites_nor_owns_keys(pool: PgPool) {
    use tollgate::service::email_verification::{self as verification, MAX_SENDS};
    let t = tollgate(pool).await;
    let o = org(&t).await;
    let owner = unverified(&t, "owner2").await;
    let me = Actor::user(owner.id);
    // Refused before anything else is looked at (even in an organization of theirs).
    let refused = invitations::invite(
        &t,
        o.id,
        &owner,
        "x@test.example",
        Role::Member,
        &me,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(refused, Err(Error::Forbidden(ref m)) if m.contains("Confirm your e-mail")),
        "{refused:?}"
    );
    let personal = tollgate::db::accounts::personal_of(&t.pool, owner.id)
        .await
        .unwrap()
        .unwrap()
        .id;
    let refused = tollgate::service::keys::create_account_key(&t.pool, personal, "k", &me).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    assert!(
        tollgate::service::keys::create_account_key(&t.pool, personal, "k", &Actor::Cli)
            .await
            .is_ok(),
        "the operator makes keys for anyone"
    );

    // Links: sent at most MAX_SENDS times in the window.
    let now = Utc::now();
    for _ in 0..MAX_SENDS {
        verification::send(&t, &owner, &verification::After::ApiKeys, None, now)
            .await
            .unwrap();
    }
    assert!(matches!(
        verification::send(&t, &owner, &verification::After::ApiKeys, None, now).await,
        Err(Error::RateLimited { .. })
    ));
    let token = verification_token(&t.pool, &owner.email).await;
    // An expired link, and a link for an address the user no longer has, prove nothing.
    assert!(matches!(
        verification::verify(&t.pool, &token, now + Duration::hours(49)).await,
        Err(Error::Invalid { .. })
    ));
    sqlx::query("UPDATE users SET email = 'moved@test.example' WHERE id = $1")
        .bind(owner.id)
        .execute(&t.pool)
        .await
        .unwrap();
    assert!(verification::verify(&t.pool, &token, now).await.is_err());
    sqlx::query("UPDATE users SET email = $2 WHERE id = $1")
        .bind(owner.id)
        .bind(&owner.email)
        .execute(&t.pool)
        .await
        .unwrap();
    assert_eq!(
        verification::verify(&t.pool, &token, now)
            .await
            .unwrap()
            .user_id,
        owner.id
    );
    assert!(
        verification::verify(&t.pool, &token, now).await.is_err(),
        "used once"
    );
    let owner = tollgate::db::users::by_id(&t.pool, owner.id)
        .await
        .unwrap()
        .unwrap();
    assert!(owner.verified_at.is_some());
    assert!(
        tollgate::service::keys::create_account_key(&t.pool, personal, "k2", &me)
            .await
            .is_ok()
    );
    // Verified users are sent nothing more.
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM email_verifications")
        .fetch_one(&t.pool)
        .await
        .unwrap();
    verification::send(&t, &owner, &verification::After::ApiKeys, None, now)
        .await
        .unwrap();
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM email_verifications")
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!(before, after);
}

/// The operator's users are verified from the start, and an invitation proves the
/// address it was sent to.
#[sqlx::test]
async fn the_operator_and_an_invitation_prove_an_address(pool: PgPool) {
    let t = tollgate(pool).await;
    let by_operator = auth::sign_up(
        &t.pool,
        &Email::parse("op-made@test.example").unwrap(),
        &PersonName::parse("Op Made").unwrap(),
        &NewPassword::parse("correct horse battery").unwrap(),
        false,
        Some(&Actor::Cli),
    )
    .await
    .unwrap();
    let row = tollgate::db::users::by_id(&t.pool, by_operator.user_id)
        .await
        .unwrap()
        .unwrap();
    assert!(row.verified_at.is_some());

    let o = org(&t).await;
    let invitee = unverified(&t, "invitee").await;
    let sent = invitations::invite(
        &t,
        o.id,
        &o.owner,
        &invitee.email,
        Role::Member,
        &Actor::user(o.owner.id),
        Utc::now(),
    )
    .await
    .unwrap();
    invitations::accept(
        &t,
        &sent.token,
        &invitee,
        &Actor::user(invitee.id),
        Utc::now(),
    )
    .await
    .unwrap();
    let row = tollgate::db::users::by_id(&t.pool, invitee.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.verified_at.is_some(),
        "the invitation reached the address"
    );
}

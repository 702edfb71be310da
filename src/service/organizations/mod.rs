//! Organizations: accounts with members holding roles (owner, admin, member,
//! viewer). Creating one and editing its general settings live here; roles,
//! invitations, seats and the per-member usage in the submodules.

pub mod invitations;
pub mod roles;
pub mod seats;
pub mod team_usage;

use super::accounts::Role;
use super::{Actor, Error};
use crate::db::{self, memberships::OrgRow};
use crate::identity::Email;
use sqlx::PgPool;
use uuid::Uuid;

/// Checks a slug: 1–48 lower-case letters, digits and single hyphens, not at either
/// end (`acme`, `acme-inc`).
///
/// # Errors
/// [`Error::Invalid`] for field `slug`.
pub fn parse_slug(s: &str) -> Result<String, Error> {
    let s = s.trim().to_lowercase();
    let ok = !s.is_empty()
        && s.len() <= 48
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(s)
    } else {
        Err(Error::invalid(
            "slug",
            "Use 1-48 lower-case letters, digits and single hyphens, such as acme-inc.",
        ))
    }
}

/// Creates an organization owned by `owner_id` and audits it.
///
/// # Errors
/// [`Error::Invalid`] for a bad name, slug (or one taken) or billing e-mail.
pub async fn create(
    pool: &PgPool,
    name: &str,
    slug: &str,
    billing_email: &str,
    owner_id: Uuid,
    actor: &Actor,
) -> Result<Uuid, Error> {
    let name = parse_name(name)?;
    let name = name.as_str();
    let slug = parse_slug(slug)?;
    let email = Email::parse(billing_email).map_err(|e| Error::invalid("billing_email", e.0))?;
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    if let Err(e) =
        db::accounts::insert_organization(&mut tx, id, name, &slug, email.as_str(), owner_id).await
    {
        return Err(if db::is_unique_violation(&e, "accounts_slug_key") {
            Error::invalid("slug", "This address is taken. Choose another.")
        } else {
            e.into()
        });
    }
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "organization.created",
            target_kind: "account",
            target_id: id.to_string(),
            account_id: Some(id),
            ip: None,
            details: serde_json::json!({ "name": name, "slug": slug, "owner": owner_id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The organization with `slug` and `user_id`'s role in it, read from the
/// database on every call. Outsiders (and unknown slugs) get `None`: the same
/// answer, so slugs do not leak.
///
/// # Errors
/// A database error.
pub async fn for_member(
    pool: &PgPool,
    slug: &str,
    user_id: Uuid,
) -> Result<Option<(OrgRow, Role)>, Error> {
    let Ok(slug) = parse_slug(slug) else {
        return Ok(None);
    };
    Ok(db::memberships::org_for_member(pool, &slug, user_id)
        .await?
        .and_then(|o| Role::parse(&o.role).map(|r| (o, r))))
}

/// Requires at least `min` of `user_id` in `account_id`.
///
/// # Errors
/// [`Error::NotFound`] for outsiders (the organization stays hidden),
/// [`Error::Forbidden`] for lesser roles.
pub async fn require(
    pool: &PgPool,
    account_id: Uuid,
    user_id: Uuid,
    min: Role,
) -> Result<Role, Error> {
    let mut conn = pool.acquire().await?;
    let role = roles::role_in(&mut conn, account_id, user_id).await?;
    if role > min {
        return Err(Error::Forbidden(
            "Your role in this organization does not allow this.".into(),
        ));
    }
    Ok(role)
}

/// The owner or an admin (`by`) changes the name and billing e-mail. Audited as
/// `organization.updated`.
///
/// # Errors
/// [`Error::Invalid`] for a bad name or e-mail; as [`require`].
pub async fn update_settings(
    pool: &PgPool,
    account_id: Uuid,
    by: Uuid,
    name: &str,
    billing_email: &str,
    actor: &Actor,
) -> Result<(), Error> {
    let name = parse_name(name)?;
    let email = Email::parse(billing_email).map_err(|e| Error::invalid("billing_email", e.0))?;
    require(pool, account_id, by, Role::Admin).await?;
    let mut tx = pool.begin().await?;
    let before = db::accounts::by_id(&mut *tx, account_id)
        .await?
        .ok_or_else(|| Error::NotFound("No such organization.".into()))?;
    db::memberships::update_org(&mut *tx, account_id, &name, email.as_str()).await?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "organization.updated",
            target_kind: "account",
            target_id: account_id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: serde_json::json!({ "name": name, "previous_name": before.name, "billing_email": email.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn parse_name(name: &str) -> Result<String, Error> {
    crate::identity::parse_label(name, 100, "the organization")
        .map_err(|e| Error::invalid("name", e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(parse_slug(" Acme-Inc ").expect("test fixture"), "acme-inc");
        for bad in ["", "-acme", "acme-", "ac--me", "acme inc", "ac_me"] {
            assert!(parse_slug(bad).is_err(), "{bad}");
        }
    }
}

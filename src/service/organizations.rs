//! Organizations: accounts with members. (Invitations, roles and seats come with
//! the teams work; this creates one with its owner.)

use super::{Actor, Error};
use crate::db;
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
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(s)
    } else {
        Err(Error::invalid("slug", "Use 1-48 lower-case letters, digits and single hyphens, such as acme-inc."))
    }
}

/// Creates an organization owned by `owner_id` and audits it.
///
/// # Errors
/// [`Error::Invalid`] for a bad name, slug (or one taken) or billing e-mail.
pub async fn create(pool: &PgPool, name: &str, slug: &str, billing_email: &str, owner_id: Uuid, actor: &Actor) -> Result<Uuid, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "Give the organization a name of at most 100 characters."));
    }
    let slug = parse_slug(slug)?;
    let email = Email::parse(billing_email).map_err(|e| Error::invalid("billing_email", e.0))?;
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    if let Err(e) = db::accounts::insert_organization(&mut tx, id, name, &slug, email.as_str(), owner_id).await {
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

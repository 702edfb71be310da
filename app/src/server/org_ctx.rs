//! Request context of the organization pages and their server functions: the
//! organization named by `/orgs/{slug}` and the caller's role in it, read from the
//! database on every call (nothing is cached, so a removed member is refused on
//! their very next request, even from a tab that was already open).

use super::ctx::{require_signed_in, tollgate, SignedIn};
use crate::error::AppError;
use crate::org_model::OrgHeader;
use tollgate::db::memberships::OrgRow;
use tollgate::service::accounts::Role;
use tollgate::service::{organizations, Tollgate};

/// A signed-in member acting in an organization.
#[derive(Clone)]
pub struct OrgCtx {
    /// The caller.
    pub me: SignedIn,
    /// The organization.
    pub org: OrgRow,
    /// The caller's role in it.
    pub role: Role,
    /// The service handle.
    pub t: Tollgate,
}

impl OrgCtx {
    /// The page header's view.
    pub fn header(&self) -> OrgHeader {
        OrgHeader {
            id: self.org.id,
            name: self.org.name.clone(),
            slug: self.org.slug.clone(),
            billing_email: self.org.billing_email.clone().unwrap_or_default(),
            role: self.org.role.clone(),
            manages: self.role <= Role::Admin,
            owner: self.role == Role::Owner,
        }
    }
}

/// The answer for an organization the caller does not belong to (or that does not
/// exist: the same answer, so slugs do not leak).
pub fn not_found() -> AppError {
    AppError::NotFound(
        "There is no organization at this address, or you are not a member of it.".into(),
    )
}

/// The signed-in caller in the organization `slug`, holding at least `min`.
///
/// # Errors
/// [`AppError::SignInRequired`] when signed out; [`not_found`] for non-members
/// (super admins included: they act through impersonation); [`AppError::Forbidden`]
/// for lesser roles.
pub async fn require_org(slug: &str, min: Role) -> Result<OrgCtx, AppError> {
    let me = require_signed_in().await?;
    let t = tollgate()?;
    let (org, role) = organizations::for_member(&t.pool, slug, me.user.id)
        .await?
        .ok_or_else(not_found)?;
    if role > min {
        return Err(AppError::Forbidden(format!(
            "Your role in {} ({}) does not allow this.",
            org.name, org.role
        )));
    }
    Ok(OrgCtx { me, org, role, t })
}

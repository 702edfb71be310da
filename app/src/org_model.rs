//! What the organization server functions send to the pages: plain serialisable
//! views.

use crate::model::DashboardData;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An account the signed-in user can act for, for the account switcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountChoice {
    /// Account id (what the switcher posts).
    pub id: Uuid,
    /// Name shown.
    pub name: String,
    /// The organization's slug; `None` for the personal account.
    pub slug: Option<String>,
    /// The user's role (`owner` for the personal account).
    pub role: String,
    /// The account the pages act for now.
    pub current: bool,
}

/// An organization as its pages' header shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgHeader {
    /// Account id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Slug (`/orgs/{slug}`).
    pub slug: String,
    /// Billing e-mail.
    pub billing_email: String,
    /// The caller's role.
    pub role: String,
    /// Whether the caller may edit settings and manage members (owner, admin).
    pub manages: bool,
    /// Whether the caller is the owner (billing, seats, ownership).
    pub owner: bool,
}

/// A member, for the members page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// User id.
    pub user_id: Uuid,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Role.
    pub role: String,
    /// Joined.
    pub joined_at: DateTime<Utc>,
    /// Roles the caller may give this member (empty: none).
    pub assignable: Vec<String>,
    /// Whether the caller may remove this member.
    pub removable: bool,
    /// This is the caller.
    pub me: bool,
}

/// A pending invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    /// Id.
    pub id: Uuid,
    /// Invited address.
    pub email: String,
    /// Role on joining.
    pub role: String,
    /// Last sent.
    pub sent_at: DateTime<Utc>,
    /// Link expiry.
    pub expires_at: DateTime<Utc>,
    /// Whether the caller may resend or revoke it.
    pub manageable: bool,
}

/// Seats bought and used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatsView {
    /// Members.
    pub members: i64,
    /// Pending invitations (each reserves a seat).
    pub pending: i64,
    /// Seats bought on a per-seat plan; `None` when nothing limits them.
    pub purchased: Option<i32>,
}

/// The members page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersPage {
    /// The organization.
    pub org: OrgHeader,
    /// Members, owner first.
    pub members: Vec<MemberView>,
    /// Pending invitations (empty for members and viewers, who do not see them).
    pub invitations: Vec<InvitationView>,
    /// Roles the caller may invite as.
    pub invitable: Vec<String>,
    /// Seats.
    pub seats: SeatsView,
}

/// One column of the per-member usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageColumn {
    /// Meter key.
    pub meter: String,
    /// Heading.
    pub name: String,
}

/// One member's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRow {
    /// Member (`None`: not attributed to a member).
    pub user_id: Option<Uuid>,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: Option<String>,
    /// Formatted values, in column order.
    pub values: Vec<String>,
}

/// The team usage page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamUsage {
    /// The organization.
    pub org: OrgHeader,
    /// Its meters as on the dashboard (`None` without a plan).
    pub dashboard: Option<DashboardData>,
    /// Per-member columns.
    pub columns: Vec<UsageColumn>,
    /// Per-member rows.
    pub rows: Vec<UsageRow>,
}

/// A team plan that can be chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamPlanOption {
    /// Plan key.
    pub key: String,
    /// Name.
    pub name: String,
    /// Price per seat (`$39/month per seat`).
    pub price: String,
    /// Interval of that price (`month`, `year`).
    pub interval: String,
    /// The organization is on it now.
    pub current: bool,
}

/// The billing page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingPage {
    /// The organization.
    pub org: OrgHeader,
    /// Current plan's name, status and interval (`Team, trialing, billed every month`).
    pub plan: Option<String>,
    /// Seats.
    pub seats: SeatsView,
    /// Team plans to choose from.
    pub options: Vec<TeamPlanOption>,
}

/// The security page: SSO settings exist only on plans with `sso_enabled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityPage {
    /// The organization.
    pub org: OrgHeader,
    /// Whether the plan includes SSO.
    pub sso_enabled: bool,
}

/// What an invitation link shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationPreview {
    /// Organization name.
    pub organization: String,
    /// Who invited.
    pub inviter: Option<String>,
    /// Invited address.
    pub email: String,
    /// Role on joining.
    pub role: String,
    /// Why it can no longer be accepted (expired, withdrawn, used), if so.
    pub closed: Option<String>,
    /// The signed-in user's e-mail, if signed in.
    pub signed_in_as: Option<String>,
    /// Whether a user with the invited address exists (log in rather than sign up).
    pub has_account: bool,
}

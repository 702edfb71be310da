//! One module per page.

pub mod api_keys;
pub mod auth;
pub mod change_plan;
pub mod dashboard;
pub mod home;
pub mod invite;
pub mod notifications;
pub mod orgs;
pub mod pricing;

pub use api_keys::ApiKeysPage;
pub use auth::{LogInPage, SignUpPage};
pub use change_plan::ChangePlanPage;
pub use dashboard::DashboardPage;
pub use home::{HomePage, NotFound};
pub use invite::InvitePage;
pub use notifications::NotificationsPage;
pub use orgs::{NewOrgPage, OrgBillingPage, OrgMembersPage, OrgSecurityPage, OrgSettingsPage, OrgUsagePage};
pub use pricing::PricingPage;

//! The super admin panel (`/admin/*`). Its data comes from server functions that
//! refuse everyone but a super admin acting as themself; the pages show the
//! refusal (log-in redirect, or "Not allowed" with status 403).

pub mod account_actions;
pub mod audit;
pub mod billing;
pub mod corrections;
pub mod costs;
pub mod keys;
pub mod live_meters;
pub mod org;
pub mod orgs;
pub mod overrides;
pub mod overview;
pub mod parts;
pub mod plans;
pub mod usage;
pub mod user;
pub mod users;

pub use audit::AdminAuditPage;
pub use billing::{AdminInvoicesPage, AdminSubscriptionsPage};
pub use costs::AdminCostsPage;
pub use keys::AdminKeysPage;
pub use org::AdminOrgPage;
pub use orgs::AdminOrgsPage;
pub use overview::AdminHomePage;
pub use plans::AdminPlansPage;
pub use usage::AdminUsagePage;
pub use user::AdminUserPage;
pub use users::AdminUsersPage;

//! One module per page.

pub mod admin;
pub mod api_keys;
pub mod auth;
pub mod billing;
pub mod billing_cancel;
pub mod change_plan;
pub mod checkout_return;
pub mod dashboard;
pub mod home;
pub mod invite;
pub mod notifications;
pub mod orgs;
pub mod password;
pub mod pricing;
pub mod webhooks;

pub use admin::{
    AdminAuditPage, AdminHomePage, AdminInvoicesPage, AdminKeysPage, AdminOrgPage, AdminOrgsPage,
    AdminCostsPage, AdminPlansPage, AdminSubscriptionsPage, AdminUsagePage, AdminUserPage, AdminUsersPage,
};
pub use api_keys::ApiKeysPage;
pub use auth::{LogInPage, SignUpPage};
pub use billing::BillingPage;
pub use billing_cancel::CancelSubscriptionPage;
pub use change_plan::ChangePlanPage;
pub use checkout_return::CheckoutReturnPage;
pub use dashboard::DashboardPage;
pub use home::{HomePage, NotFound};
pub use invite::InvitePage;
pub use notifications::NotificationsPage;
pub use orgs::{
    NewOrgPage, OrgBillingPage, OrgMembersPage, OrgSecurityPage, OrgSettingsPage, OrgUsagePage,
};
pub use password::{ForgotPasswordPage, ResetPasswordPage};
pub use pricing::PricingPage;
pub use webhooks::{AdminWebhooksPage, WebhooksPage};

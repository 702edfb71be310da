//! Finding accounts and what they are entitled to.

use super::Error;
use crate::catalog::{Catalog, FeatureValue, Plan};
use crate::db::{self, accounts::AccountRow, subscriptions::SubscriptionRow};
use crate::identity::Email;
use crate::limits::{EffectiveLimit, Enforcement};
use crate::overrides::Overrides;
use crate::period::{meter_period, Cycle, Period};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgExecutor;
use uuid::Uuid;

/// How a request names an account: its id, `ext:<external_id>`, or (operator CLI
/// only) the owner's e-mail for a personal account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountRef {
    /// The account's id.
    Id(Uuid),
    /// The product's own id for the account.
    External(String),
    /// The e-mail of the user whose personal account is meant.
    Email(String),
}

impl AccountRef {
    /// Parses `<uuid>`, `ext:<external id>` or an e-mail address.
    ///
    /// # Errors
    /// A sentence for anything else.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(ext) = s.strip_prefix("ext:") {
            if ext.is_empty() || ext.len() > 255 {
                return Err("an external id has 1 to 255 characters after `ext:`".into());
            }
            return Ok(AccountRef::External(ext.to_string()));
        }
        if let Ok(id) = Uuid::parse_str(s) {
            return Ok(AccountRef::Id(id));
        }
        match Email::parse(s) {
            Ok(e) if s.contains('@') => Ok(AccountRef::Email(e.as_str().to_string())),
            _ => Err("name an account by its uuid or as `ext:<external_id>`".into()),
        }
    }
}

/// The account `r` names, if any.
///
/// # Errors
/// A database error.
pub async fn find(db: impl PgExecutor<'_>, r: &AccountRef) -> Result<Option<AccountRow>, Error> {
    Ok(match r {
        AccountRef::Id(id) => db::accounts::by_id(db, *id).await?,
        AccountRef::External(ext) => db::accounts::by_external_id(db, ext).await?,
        AccountRef::Email(email) => db::accounts::personal_by_email(db, email).await?,
    })
}

/// Why a request's account could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// A platform key named no account.
    Missing,
    /// The name is neither a uuid nor `ext:<id>`.
    Malformed,
    /// A platform key named an account that does not exist.
    Unknown,
    /// An account key named another account (or one that does not exist: the
    /// answer is the same, so a key learns nothing about other accounts).
    Foreign,
}

impl Unusable {
    /// The matching service error; `index` is the event's position in a batch.
    pub fn into_error(self, named: Option<&str>, index: Option<usize>) -> Error {
        let at = index.map(|i| format!("event {i}: ")).unwrap_or_default();
        match self {
            Unusable::Missing => Error::Invalid {
                field: "account".into(),
                message: "a platform key must name the account".into(),
                index,
            },
            Unusable::Malformed => Error::Invalid {
                field: "account".into(),
                message: "name an account by its uuid or as `ext:<external_id>`".into(),
                index,
            },
            Unusable::Unknown => {
                Error::NotFound(format!("{at}no account `{}`", named.unwrap_or_default()))
            }
            Unusable::Foreign => {
                Error::Forbidden(format!("{at}an account key acts for its own account only"))
            }
        }
    }
}

/// The account an API caller acts for: an account key's own account (naming it is
/// allowed, naming another is not); the account a platform key names.
///
/// # Errors
/// A database error; the inner result says why the named account is unusable.
pub async fn for_caller(
    db: impl PgExecutor<'_>,
    caller: &super::keys::Caller,
    named: Option<&str>,
) -> Result<Result<Uuid, Unusable>, Error> {
    use super::keys::Caller;
    let Some(named) = named else {
        return Ok(match caller {
            Caller::Account { account_id, .. } => Ok(*account_id),
            Caller::Platform { .. } => Err(Unusable::Missing),
        });
    };
    let Some(r) = AccountRef::parse(named)
        .ok()
        .filter(|r| !matches!(r, AccountRef::Email(_)))
    else {
        return Ok(Err(Unusable::Malformed));
    };
    let found = find(db, &r).await?.map(|a| a.id);
    Ok(match (caller, found) {
        (Caller::Account { account_id, .. }, Some(id)) if id == *account_id => Ok(id),
        (Caller::Account { .. }, _) => Err(Unusable::Foreign),
        (Caller::Platform { .. }, Some(id)) => Ok(id),
        (Caller::Platform { .. }, None) => Err(Unusable::Unknown),
    })
}

/// [`for_caller`] with the refusal turned into the matching error.
///
/// # Errors
/// As [`Unusable::into_error`], or a database error.
pub async fn resolve_for_caller(
    db: impl PgExecutor<'_>,
    caller: &super::keys::Caller,
    named: Option<&str>,
) -> Result<Uuid, Error> {
    for_caller(db, caller, named)
        .await?
        .map_err(|u| u.into_error(named, None))
}

/// An account with its live subscription and its entitlement overrides in force.
#[derive(Debug, Clone)]
pub struct AccountState {
    /// The account.
    pub account: AccountRow,
    /// Its live subscription, if any.
    pub subscription: Option<SubscriptionRow>,
    /// Its overrides in force now.
    pub overrides: Overrides,
}

/// Loads the account, its live subscription and its overrides in force now.
///
/// # Errors
/// [`Error::NotFound`] when the account does not exist.
pub async fn state(pool: &sqlx::PgPool, account_id: Uuid) -> Result<AccountState, Error> {
    let account = db::accounts::by_id(pool, account_id)
        .await?
        .ok_or_else(|| Error::NotFound("no such account".into()))?;
    let (subscription, overrides) =
        entitlements(&mut *pool.acquire().await?, account_id, Utc::now()).await?;
    Ok(AccountState {
        account,
        subscription,
        overrides,
    })
}

/// What entitles an account at `now`: its live subscription and its overrides in
/// force, read on `conn` (inside a transaction when the caller holds one); borrow
/// them as a [`Standing`].
///
/// # Errors
/// Database errors.
pub async fn entitlements(
    conn: &mut sqlx::PgConnection,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(Option<SubscriptionRow>, Overrides), Error> {
    let subscription = db::subscriptions::live_for_account(&mut *conn, account_id).await?;
    let overrides = db::overrides::active(&mut *conn, account_id, now).await?;
    Ok((subscription, overrides))
}

impl AccountState {
    /// What the account's subscription (and its overrides) entitle it to.
    pub fn standing(&self) -> Standing<'_> {
        Standing {
            subscription: self.subscription.as_ref(),
            overrides: &self.overrides,
        }
    }
}

/// An account's subscription seen as entitlements: the plan, seats and billing
/// cycle that limits and periods are computed from, and the account's overrides
/// of the plan's limits and features ([`crate::overrides`]).
#[derive(Debug, Clone, Copy)]
pub struct Standing<'a> {
    /// The live subscription, if any.
    pub subscription: Option<&'a SubscriptionRow>,
    /// The account's overrides in force ([`crate::overrides::NONE`] for none).
    pub overrides: &'a Overrides,
}

impl<'a> Standing<'a> {
    /// The plan whose entitlements apply now: the live subscription's plan when it
    /// entitles (trialing, active, or past due within the dunning grace period), else
    /// none.
    pub fn entitled_plan<'c>(&self, catalog: &'c Catalog) -> Option<&'c Plan> {
        self.subscription
            .filter(|s| s.entitled)
            .and_then(|s| catalog.plan(&s.plan_key))
    }

    /// The billing cycle, if subscribed.
    pub fn cycle(&self) -> Option<Cycle> {
        self.subscription.map(SubscriptionRow::cycle)
    }

    /// Seats of the subscription (1 without one).
    pub fn seats(&self) -> u32 {
        self.subscription
            .map_or(1, |s| u32::try_from(s.seats).unwrap_or(1))
    }

    /// The limit on `meter` that applies now: the plan's, with the account's
    /// override. Without an entitling plan the account is entitled to nothing: a
    /// hard limit of zero.
    pub fn limit(&self, catalog: &Catalog, meter: &str) -> EffectiveLimit {
        match self.entitled_plan(catalog) {
            Some(plan) => self
                .overrides
                .limit(meter, &plan.limit(meter))
                .resolve(self.seats()),
            None => EffectiveLimit {
                included: Some(Decimal::ZERO),
                enforcement: Enforcement::Hard,
                blocks_at: Some(Decimal::ZERO),
            },
        }
    }

    /// The value of `feature` that applies now: the plan's, or the account's
    /// override; `None` without an entitling plan or when neither has one.
    pub fn feature(&self, catalog: &Catalog, feature: &str) -> Option<FeatureValue> {
        let plan = self.entitled_plan(catalog)?;
        self.overrides.feature(feature, plan.feature(feature))
    }

    /// The period `meter` counts over at `t`.
    pub fn meter_period(&self, catalog: &Catalog, meter: &str, t: DateTime<Utc>) -> Period {
        let reset = catalog
            .meter(meter)
            .map_or(crate::period::Reset::BillingPeriod, |m| m.reset);
        meter_period(reset, self.cycle(), t)
    }
}

/// Membership roles, most powerful first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Billing owner; exactly one per account.
    Owner,
    /// Manages members.
    Admin,
    /// Uses the plan.
    Member,
    /// Reads only.
    Viewer,
}

impl Role {
    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// Requires `user_id` to hold at least `min` in `account_id`.
///
/// # Errors
/// [`Error::Forbidden`] for non-members and lesser roles (the same answer, so that
/// an outsider learns nothing about the account).
pub async fn require_role(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    user_id: Uuid,
    min: Role,
) -> Result<Role, Error> {
    let role = db::accounts::role_of(db, account_id, user_id)
        .await?
        .as_deref()
        .and_then(Role::parse);
    match role {
        Some(r) if r <= min => Ok(r),
        _ => Err(Error::Forbidden(
            "you may not do this for this account".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_refs_parse() {
        let id = Uuid::now_v7();
        assert_eq!(AccountRef::parse(&id.to_string()), Ok(AccountRef::Id(id)));
        assert_eq!(
            AccountRef::parse("ext:cust_42"),
            Ok(AccountRef::External("cust_42".into()))
        );
        assert_eq!(
            AccountRef::parse("Ada@Example.com"),
            Ok(AccountRef::Email("ada@example.com".into()))
        );
        assert!(AccountRef::parse("ext:").is_err());
        assert!(AccountRef::parse("acct_1").is_err());
        assert!(Role::Owner < Role::Viewer);
    }
}

//! Turning the admin services' rows into the pages' views.

use crate::format::quantity;
use crate::model::admin::{AuditView, BillingView, CorrectionView, OverrideView, SubscriptionView};
use tollgate::catalog::Catalog;
use tollgate::db::audit::AuditRow;
use tollgate::money::{Currency, Money};
use tollgate::overrides::Target;
use tollgate::service::admin::look_up::AccountBilling;
use uuid::Uuid;

/// An audit row for display.
pub fn audit(r: AuditRow) -> AuditView {
    AuditView {
        id: r.id,
        occurred_at: r.occurred_at,
        actor: r
            .actor_email
            .or_else(|| r.actor_user_id.map(|u| u.to_string()))
            .unwrap_or(r.actor_kind),
        impersonator: r
            .impersonator_email
            .or_else(|| r.impersonator_user_id.map(|u| u.to_string())),
        action: r.action,
        target: format!("{}:{}", r.target_kind, r.target_id),
        account_id: r.account_id,
        ip: r.ip,
        details: r.details.to_string(),
    }
}

/// An override in words: what it sets.
fn override_summary(target: &Target) -> String {
    match target {
        Target::Limit { value, .. } => {
            let mut parts = Vec::new();
            match value.included {
                Some(Some(q)) => parts.push(format!("included {}", quantity(q))),
                Some(None) => parts.push("unlimited".to_string()),
                None => {}
            }
            if let Some(e) = value.enforcement {
                parts.push(e.as_str().to_string());
            }
            if let Some(g) = value.grace_percent {
                parts.push(format!("grace {} %", quantity(g)));
            }
            parts.join(" · ")
        }
        Target::Feature { value, .. } => crate::format::feature_value(value),
    }
}

/// An account's billing for display, with what `catalog` lets an operator override.
pub fn billing(account_id: Uuid, b: AccountBilling, catalog: Option<&Catalog>) -> BillingView {
    let now = chrono::Utc::now();
    let period = (b.usage.period.start, b.usage.period.end);
    BillingView {
        account_id,
        subscription: b.subscription.map(|s| SubscriptionView {
            plan: s.plan_key.clone(),
            interval: s.interval.clone(),
            status: s.status.clone(),
            seats: s.seats,
            provider: s.provider.clone(),
            trial_end: s.trial_end,
            period,
            created_at: s.created_at,
            cancel_at: s.cancel_at.filter(|_| s.cancel_at_period_end),
        }),
        meters: b.usage.meters,
        credits: b
            .credits
            .into_iter()
            .map(|c| match Currency::parse(&c.currency) {
                Ok(cur) => format!("{} {}", Money::new(c.balance, cur).display(), cur.code()),
                Err(_) => format!("{} {}", c.balance.normalize(), c.currency),
            })
            .collect(),
        overrides: b
            .overrides
            .into_iter()
            .map(|o| OverrideView {
                kind: o.target.kind().to_string(),
                key: o.target.key().to_string(),
                summary: override_summary(&o.target),
                expired: !o.active_at(now),
                reason: o.reason,
                author: o.author,
                created_at: o.created_at,
                expires_at: o.expires_at,
            })
            .collect(),
        meter_options: catalog
            .map(|c| {
                c.meters
                    .iter()
                    .map(|m| (m.key.to_string(), m.name.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        feature_options: catalog
            .map(|c| {
                c.features
                    .iter()
                    .map(|f| (f.key.to_string(), f.name.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        coupon: b.coupon.map(|c| {
            let name = catalog
                .and_then(|cat| cat.coupon(&c.coupon_code))
                .map_or_else(String::new, |k| format!(" ({})", k.name));
            format!(
                "{}{name}, since {}, applied to {} invoice{}",
                c.coupon_code,
                crate::format::date(c.redeemed_at),
                c.invoices_applied,
                if c.invoices_applied == 1 { "" } else { "s" }
            )
        }),
        coupon_options: catalog
            .map(|c| {
                c.coupons
                    .iter()
                    .map(|k| (k.code.to_string(), k.name.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        corrections: b
            .corrections
            .into_iter()
            .map(|c| CorrectionView {
                reason: c.reason,
                created_at: c.created_at,
                events: c.events,
                quantities: c.quantities,
                adjusted: (!c.adjusted.is_zero()).then(|| match catalog {
                    Some(cat) => Money::new(c.adjusted, cat.currency).display(),
                    None => c.adjusted.normalize().to_string(),
                }),
            })
            .collect(),
        net_terms_days: b.account.net_terms_days,
        external_id: b.account.external_id,
        plan_options: catalog
            .map(|c| {
                c.plans
                    .iter()
                    .map(|p| {
                        let mut label = p.name.clone();
                        if !p.public {
                            label.push_str(" (hidden)");
                        }
                        if !p.self_serve {
                            label.push_str(" (sales-only)");
                        }
                        (p.key.to_string(), label)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

//! Coupons on card-paid subscriptions (issue 11 §5): a coupon applied to an account
//! whose subscription Stripe bills becomes that subscription's discount, so Stripe's
//! invoices carry it (<https://docs.stripe.com/billing/subscriptions/coupons>). The
//! Stripe coupon is made on first use from the catalog's terms
//! ([`crate::stripe_catalog::stripe_coupon`]). Stripe's current API applies coupons
//! to subscriptions (`discounts`); a customer-wide `coupon` is no longer accepted.

use super::{failed, is_missing, Stripe};
use crate::coupon::Coupon;
use crate::money::Currency;
use crate::service::Error;
use crate::stripe_catalog::stripe_coupon;
use stripe_billing::subscription::{
    DeleteDiscountSubscription, DiscountsDataParam, UpdateSubscription,
};
use stripe_product::coupon::{CreateCoupon, RetrieveCoupon};
use stripe_shared::CouponDuration;

/// Makes `coupon` the discount of Stripe subscription `subscription` (replacing any
/// other), creating the Stripe coupon when it does not exist yet.
///
/// # Errors
/// [`Error::Invalid`] (field `coupon`) for terms Stripe cannot take; [`Error::Internal`]
/// with Stripe's message when a request fails (nothing is applied then).
pub(crate) async fn apply(
    stripe: &Stripe,
    subscription: &str,
    coupon: &Coupon,
    currency: Currency,
) -> Result<(), Error> {
    let shape = stripe_coupon(coupon, currency).map_err(|e| {
        Error::invalid(
            "coupon",
            format!(
                "{} cannot be given to a card-paid subscription: {e}.",
                coupon.name
            ),
        )
    })?;
    match RetrieveCoupon::new(shape.id.as_str())
        .send(stripe.client())
        .await
    {
        Ok(_) => {}
        Err(e) if is_missing(&e) => {
            let duration = match shape.duration {
                "once" => CouponDuration::Once,
                "repeating" => CouponDuration::Repeating,
                _ => CouponDuration::Forever,
            };
            let mut create = CreateCoupon::new()
                .id(shape.id.as_str())
                .name(coupon.name.as_str())
                .duration(duration);
            if let Some(p) = shape.percent_off {
                create = create.percent_off(p);
            }
            if let Some(a) = shape.amount_off {
                let code: stripe_types::Currency = currency
                    .code()
                    .to_ascii_lowercase()
                    .parse()
                    .unwrap_or_else(|never| match never {});
                create = create.amount_off(a).currency(code);
            }
            if let Some(m) = shape.duration_in_months {
                create = create.duration_in_months(m);
            }
            create
                .send(stripe.client())
                .await
                .map_err(|e| failed("create coupon", e))?;
        }
        Err(e) => return Err(failed("retrieve coupon", e)),
    }
    let mut discount = DiscountsDataParam::new();
    discount.coupon = Some(shape.id);
    UpdateSubscription::new(subscription)
        .discounts(vec![discount])
        .send(stripe.client())
        .await
        .map_err(|e| failed("apply coupon", e))?;
    Ok(())
}

/// Removes Stripe subscription `subscription`'s discount; none is not an error.
///
/// # Errors
/// [`Error::Internal`] with Stripe's message when the request fails.
pub(crate) async fn remove(stripe: &Stripe, subscription: &str) -> Result<(), Error> {
    match DeleteDiscountSubscription::new(subscription)
        .send(stripe.client())
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_missing(&e) => Ok(()),
        Err(e) => Err(failed("remove coupon", e)),
    }
}

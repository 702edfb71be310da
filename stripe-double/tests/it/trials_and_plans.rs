//! Trials, immediate invoicing of plan changes, ending a trial early and tiered usage prices.

use crate::common;

use common::{map, Env};
use stripe_billing::billing_meter::{
    CreateBillingMeter, CreateBillingMeterDefaultAggregation,
    CreateBillingMeterDefaultAggregationFormula,
};
use stripe_billing::billing_meter_event::CreateBillingMeterEvent;
use stripe_billing::invoice::ListInvoice;
use stripe_billing::subscription::{
    CreateSubscription, CreateSubscriptionItems, RetrieveSubscription, UpdateSubscription,
    UpdateSubscriptionItems, UpdateSubscriptionProrationBehavior, UpdateSubscriptionTrialEnd,
};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
    RetrieveCheckoutSession,
};
use stripe_core::customer::CreateCustomer;
use stripe_product::price::{
    CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, CreatePriceRecurringUsageType,
    CreatePriceTiers, CreatePriceTiersUpTo,
};
use stripe_product::product::CreateProduct;
use stripe_shared::{
    CheckoutSessionMode, CheckoutSessionPaymentStatus, InvoiceStatus, PriceBillingScheme,
    PriceTiersMode, SubscriptionStatus,
};
use stripe_types::Currency;
use stripe_webhook::EventObject;

const DAY: i64 = 86_400;

/// A customer and a $29/month plan; returns (customer id, price id).
async fn catalog(env: &Env) -> (String, String) {
    let customer = CreateCustomer::new()
        .email("owner@acme.test")
        .send(&env.client)
        .await
        .unwrap();
    CreateProduct::new("Starter")
        .id("starter")
        .send(&env.client)
        .await
        .unwrap();
    let price = CreatePrice::new(Currency::USD)
        .product("starter")
        .unit_amount(2900)
        .lookup_key("starter_monthly")
        .recurring(CreatePriceRecurring::new(
            CreatePriceRecurringInterval::Month,
        ))
        .send(&env.client)
        .await
        .unwrap();
    (
        customer.id.as_str().to_owned(),
        price.id.as_str().to_owned(),
    )
}

/// Checks out `quantity` × `price`, with an optional trial, paying with `card`; returns the subscription id.
async fn check_out(
    env: &Env,
    customer: &str,
    price: &str,
    quantity: u64,
    trial_days: Option<u32>,
    card: &str,
) -> String {
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price = Some(price.to_owned());
    item.quantity = Some(quantity);
    let mut data = CreateCheckoutSessionSubscriptionData::new();
    data.trial_period_days = trial_days;
    let session = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Subscription)
        .customer(customer)
        .line_items(vec![item])
        .subscription_data(data)
        .success_url("https://tollgate.test/ok?cs={CHECKOUT_SESSION_ID}")
        .send(&env.client)
        .await
        .unwrap();
    let response = env.submit_card(session.url.as_deref().unwrap(), card).await;
    assert_eq!(response.status().as_u16(), 303);
    let done = RetrieveCheckoutSession::new(session.id)
        .send(&env.client)
        .await
        .unwrap();
    let expected = if trial_days.is_some() {
        CheckoutSessionPaymentStatus::NoPaymentRequired
    } else {
        CheckoutSessionPaymentStatus::Paid
    };
    assert_eq!(done.payment_status, expected);
    done.subscription.unwrap().id().as_str().to_owned()
}

#[tokio::test]
async fn a_trial_warns_three_days_ahead_then_a_failing_card_makes_it_past_due() {
    let env = Env::start().await;
    let (cus, price) = catalog(&env).await;
    // Without a trial, a card whose charges fail is declined at Checkout …
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price = Some(price.clone());
    item.quantity = Some(1);
    let session = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Subscription)
        .customer(&cus)
        .line_items(vec![item])
        .success_url("https://tollgate.test/ok")
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(
        env.submit_card(session.url.as_deref().unwrap(), "4000000000000341")
            .await
            .status()
            .as_u16(),
        402
    );
    // … with one, it is accepted and the first charge comes at the trial's end.
    let sub_id = check_out(&env, &cus, &price, 1, Some(14), "4000000000000341").await;
    let sub = RetrieveSubscription::new(sub_id.as_str())
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(sub.status, SubscriptionStatus::Trialing);
    let trial_end = sub.trial_end.unwrap();
    assert_eq!(trial_end - sub.trial_start.unwrap(), 14 * DAY);
    let invoices = ListInvoice::new()
        .subscription(&sub_id)
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(
        (invoices.data[0].amount_due, invoices.data[0].status.clone()),
        (0, Some(InvoiceStatus::Paid))
    );

    env.double
        .advance_subscription(&sub_id, Some(trial_end - 3 * DAY - 1))
        .unwrap();
    env.settle().await;
    assert!(!env
        .receiver
        .kinds()
        .contains(&"customer.subscription.trial_will_end".to_owned()));
    env.double
        .advance_subscription(&sub_id, Some(trial_end - 2 * DAY))
        .unwrap();
    let warned = env
        .receiver
        .wait_for("customer.subscription.trial_will_end", 1)
        .await;
    assert_eq!(warned[0].created, trial_end - 3 * DAY);

    let after = env.double.advance_subscription(&sub_id, None).unwrap();
    assert_eq!(after["status"], "past_due");
    let failed = env.receiver.wait_for("invoice.payment_failed", 1).await;
    let EventObject::InvoicePaymentFailed(invoice) = &failed[0].data.object else {
        panic!("wrong object")
    };
    assert_eq!(invoice.amount_due, 2900);
    assert_eq!(invoice.period_end, trial_end);
    env.settle().await;
    assert_eq!(
        env.receiver
            .kinds()
            .iter()
            .filter(|k| *k == "customer.subscription.trial_will_end")
            .count(),
        1
    );
}

#[tokio::test]
async fn always_invoice_bills_a_quantity_change_at_once() {
    let env = Env::start().await;
    let (cus, price) = catalog(&env).await;
    let sub_id = check_out(&env, &cus, &price, 1, None, "4242424242424242").await;
    let sub = RetrieveSubscription::new(sub_id.as_str())
        .send(&env.client)
        .await
        .unwrap();
    let item = &sub.items.data[0];
    let midpoint =
        item.current_period_start + (item.current_period_end - item.current_period_start) / 2;
    env.double
        .advance_subscription(&sub_id, Some(midpoint))
        .unwrap();

    let mut change = UpdateSubscriptionItems::new();
    change.id = Some(item.id.as_str().to_owned());
    change.quantity = Some(3);
    UpdateSubscription::new(sub_id.as_str())
        .items(vec![change])
        .proration_behavior(UpdateSubscriptionProrationBehavior::AlwaysInvoice)
        .send(&env.client)
        .await
        .unwrap();
    let invoices = ListInvoice::new()
        .subscription(&sub_id)
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(invoices.data.len(), 2);
    // Half of 3 × $29.00 charged ($43.50) less half of 1 × $29.00 credited ($14.50).
    let latest = &invoices.data[0];
    let mut amounts: Vec<i64> = latest.lines.data.iter().map(|l| l.amount).collect();
    amounts.sort();
    assert_eq!(amounts, [-1450, 4350]);
    assert_eq!(
        (latest.amount_paid, latest.status.clone()),
        (2900, Some(InvoiceStatus::Paid))
    );
    assert_eq!(
        latest.billing_reason,
        Some(stripe_shared::InvoiceBillingReason::SubscriptionUpdate)
    );
}

#[tokio::test]
async fn ending_a_trial_now_starts_a_paid_period() {
    let env = Env::start().await;
    let (cus, price) = catalog(&env).await;
    let sub_id = check_out(&env, &cus, &price, 1, Some(30), "4242424242424242").await;
    let started = env.double.now(&cus);
    let sub = UpdateSubscription::new(sub_id.as_str())
        .trial_end(UpdateSubscriptionTrialEnd::Now)
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(sub.trial_end, Some(sub.items.data[0].current_period_start));
    assert!(sub.items.data[0].current_period_start >= started);
    env.receiver.wait_for("invoice.paid", 2).await;
    let current = RetrieveSubscription::new(sub_id.as_str())
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(current.status, SubscriptionStatus::Active);
    let invoices = ListInvoice::new()
        .subscription(&sub_id)
        .status(InvoiceStatus::Paid)
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(
        invoices
            .data
            .iter()
            .map(|i| i.amount_paid)
            .collect::<Vec<_>>(),
        [2900, 0]
    );
}

#[tokio::test]
async fn graduated_tiers_price_reported_usage_at_renewal() {
    let env = Env::start().await;
    let customer = CreateCustomer::new()
        .email("ops@acme.test")
        .send(&env.client)
        .await
        .unwrap();
    let cus = customer.id.as_str().to_owned();
    env.double.set_card(&cus, "4242424242424242").unwrap();
    let meter = CreateBillingMeter::new(
        CreateBillingMeterDefaultAggregation::new(CreateBillingMeterDefaultAggregationFormula::Sum),
        "Events",
        "events",
    )
    .send(&env.client)
    .await
    .unwrap();
    CreateProduct::new("Events")
        .id("events")
        .send(&env.client)
        .await
        .unwrap();
    let mut recurring = CreatePriceRecurring::new(CreatePriceRecurringInterval::Month);
    recurring.usage_type = Some(CreatePriceRecurringUsageType::Metered);
    recurring.meter = Some(meter.id.as_str().to_owned());
    let mut free = CreatePriceTiers::new(CreatePriceTiersUpTo::I64(1000));
    free.unit_amount = Some(0);
    let mut paid = CreatePriceTiers::new(CreatePriceTiersUpTo::Inf);
    paid.unit_amount = Some(1);
    let price = CreatePrice::new(Currency::USD)
        .product("events")
        .billing_scheme(PriceBillingScheme::Tiered)
        .tiers_mode(PriceTiersMode::Graduated)
        .tiers(vec![free, paid])
        .recurring(recurring)
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(price.billing_scheme, PriceBillingScheme::Tiered);

    let mut item = CreateSubscriptionItems::new();
    item.price = Some(price.id.as_str().to_owned());
    let sub = CreateSubscription::new()
        .customer(&cus)
        .items(vec![item])
        .metadata(map(&[("org", "7")]))
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(sub.status, SubscriptionStatus::Active);
    CreateBillingMeterEvent::new(
        "events",
        map(&[("stripe_customer_id", &cus), ("value", "1500")]),
    )
    .send(&env.client)
    .await
    .unwrap();
    env.double
        .advance_subscription(sub.id.as_str(), None)
        .unwrap();
    let invoices = ListInvoice::new()
        .subscription(sub.id.as_str())
        .send(&env.client)
        .await
        .unwrap();
    let renewal = &invoices.data[0];
    assert_eq!(
        renewal.billing_reason,
        Some(stripe_shared::InvoiceBillingReason::SubscriptionCycle)
    );
    // First 1,000 events free, the other 500 at $0.01.
    assert_eq!(
        renewal
            .lines
            .data
            .iter()
            .map(|l| (l.quantity, l.amount))
            .collect::<Vec<_>>(),
        [(Some(1500), 500)]
    );
    assert_eq!(renewal.amount_paid, 500);
}

#[tokio::test]
async fn a_coupon_discounts_the_subscriptions_invoices_while_it_lasts() {
    use stripe_billing::subscription::DeleteDiscountSubscription;
    use stripe_product::coupon::{CreateCoupon, RetrieveCoupon};
    use stripe_shared::CouponDuration;
    let env = Env::start().await;
    let (cus, price) = catalog(&env).await;
    env.double.set_card(&cus, "4242424242424242").unwrap();
    let half = CreateCoupon::new()
        .id("tollgate_half")
        .name("Half off")
        .percent_off(50.0)
        .duration(CouponDuration::Forever)
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(
        (half.percent_off, half.duration.clone()),
        (Some(50.0), CouponDuration::Forever)
    );
    let once = CreateCoupon::new()
        .id("five")
        .amount_off(500)
        .currency(Currency::USD)
        .duration(CouponDuration::Once)
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(once.amount_off, Some(500));
    assert!(
        CreateCoupon::new()
            .id("bad")
            .percent_off(101.0)
            .send(&env.client)
            .await
            .is_err(),
        "more than 100 % off"
    );
    assert!(RetrieveCoupon::new("missing")
        .send(&env.client)
        .await
        .is_err());

    let mut item = CreateSubscriptionItems::new();
    item.price = Some(price);
    let sub = CreateSubscription::new()
        .customer(&cus)
        .items(vec![item])
        .send(&env.client)
        .await
        .unwrap();
    let id = sub.id.as_str().to_owned();
    let mut discount = stripe_billing::subscription::DiscountsDataParam::new();
    discount.coupon = Some("tollgate_half".into());
    let updated = UpdateSubscription::new(id.as_str())
        .discounts(vec![discount])
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(updated.discounts.len(), 1);
    let renewal = |env: &Env, id: String| {
        let client = env.client.clone();
        async move {
            let invoices = ListInvoice::new()
                .subscription(&id)
                .send(&client)
                .await
                .unwrap();
            let i = invoices.data[0].clone();
            (i.subtotal, i.total, i.amount_paid)
        }
    };
    env.double.advance_subscription(&id, None).unwrap();
    assert_eq!(
        renewal(&env, id.clone()).await,
        (2900, 1450, 1450),
        "half of $29"
    );

    DeleteDiscountSubscription::new(id.as_str())
        .send(&env.client)
        .await
        .unwrap();
    assert!(
        DeleteDiscountSubscription::new(id.as_str())
            .send(&env.client)
            .await
            .is_err(),
        "nothing left to delete"
    );
    env.double.advance_subscription(&id, None).unwrap();
    assert_eq!(renewal(&env, id.clone()).await, (2900, 2900, 2900));

    // A once coupon takes $5 off the next invoice only.
    let mut discount = stripe_billing::subscription::DiscountsDataParam::new();
    discount.coupon = Some("five".into());
    UpdateSubscription::new(id.as_str())
        .discounts(vec![discount])
        .send(&env.client)
        .await
        .unwrap();
    env.double.advance_subscription(&id, None).unwrap();
    assert_eq!(renewal(&env, id.clone()).await, (2900, 2400, 2400));
    env.double.advance_subscription(&id, None).unwrap();
    assert_eq!(renewal(&env, id.clone()).await, (2900, 2900, 2900));
    let after = RetrieveSubscription::new(id.as_str())
        .send(&env.client)
        .await
        .unwrap();
    assert!(after.discounts.is_empty());
}

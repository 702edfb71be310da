//! The whole paid-subscription life cycle, driven through `async-stripe` exactly as Tollgate will:
//! catalog → meter → Checkout → webhooks → plan change with proration preview → usage → failed
//! renewal → card swap in the Portal → invoice paid → cancel at period end.

use crate::common;

use common::{map, Env};
use stripe_billing::billing_meter::{
    CreateBillingMeter, CreateBillingMeterCustomerMapping, CreateBillingMeterCustomerMappingType,
    CreateBillingMeterDefaultAggregation, CreateBillingMeterDefaultAggregationFormula,
    CreateBillingMeterValueSettings,
};
use stripe_billing::billing_meter_event::CreateBillingMeterEvent;
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::invoice::{
    CreatePreviewInvoice, CreatePreviewInvoiceSubscriptionDetails,
    CreatePreviewInvoiceSubscriptionDetailsItems,
    CreatePreviewInvoiceSubscriptionDetailsProrationBehavior, ListInvoice, PayInvoice,
};
use stripe_billing::subscription::{
    RetrieveSubscription, UpdateSubscription, UpdateSubscriptionItems,
    UpdateSubscriptionProrationBehavior,
};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
    RetrieveCheckoutSession,
};
use stripe_core::customer::CreateCustomer;
use stripe_core::event::ListEvent;
use stripe_product::price::{
    CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, CreatePriceRecurringUsageType,
    ListPrice,
};
use stripe_product::product::CreateProduct;
use stripe_shared::{
    CheckoutSessionMode, CheckoutSessionStatus, Invoice, InvoiceStatus, SubscriptionStatus,
};
use stripe_types::{Currency, Expandable};
use stripe_webhook::EventObject;

fn proration_lines(invoice: &Invoice) -> Vec<i64> {
    invoice
        .lines
        .data
        .iter()
        .filter(|l| {
            l.parent
                .as_ref()
                .and_then(|p| p.subscription_item_details.as_ref())
                .is_some_and(|d| d.proration)
        })
        .map(|l| l.amount)
        .collect()
}

#[tokio::test]
async fn checkout_upgrade_usage_dunning_and_cancellation() {
    let env = Env::start().await;
    let client = &env.client;

    // Customer and catalog.
    let customer = CreateCustomer::new()
        .email("owner@acme.test")
        .name("Acme")
        .metadata(map(&[("organization_id", "42")]))
        .send(client)
        .await
        .unwrap();
    assert_eq!(customer.email.as_deref(), Some("owner@acme.test"));
    let cus = customer.id.as_str().to_owned();

    let product = CreateProduct::new("Tollgate")
        .id("tollgate_plans")
        .send(client)
        .await
        .unwrap();
    assert_eq!(product.id.as_str(), "tollgate_plans");
    let monthly = || CreatePriceRecurring::new(CreatePriceRecurringInterval::Month);
    let starter = CreatePrice::new(Currency::USD)
        .product("tollgate_plans")
        .unit_amount(2900)
        .lookup_key("starter_monthly")
        .recurring(monthly())
        .send(client)
        .await
        .unwrap();
    let pro = CreatePrice::new(Currency::USD)
        .product("tollgate_plans")
        .unit_amount(7900)
        .lookup_key("pro_monthly")
        .recurring(monthly())
        .send(client)
        .await
        .unwrap();

    let meter = CreateBillingMeter::new(
        CreateBillingMeterDefaultAggregation::new(CreateBillingMeterDefaultAggregationFormula::Sum),
        "API calls",
        "api_calls",
    )
    .customer_mapping(CreateBillingMeterCustomerMapping::new(
        "stripe_customer_id",
        CreateBillingMeterCustomerMappingType::ById,
    ))
    .value_settings(CreateBillingMeterValueSettings::new("value"))
    .send(client)
    .await
    .unwrap();
    assert_eq!(meter.event_name, "api_calls");
    let mut metered_recurring = monthly();
    metered_recurring.usage_type = Some(CreatePriceRecurringUsageType::Metered);
    metered_recurring.meter = Some(meter.id.as_str().to_owned());
    let calls = CreatePrice::new(Currency::USD)
        .product("tollgate_plans")
        .unit_amount(2)
        .lookup_key("api_calls_monthly")
        .recurring(metered_recurring)
        .send(client)
        .await
        .unwrap();

    let found = ListPrice::new()
        .lookup_keys(vec!["starter_monthly".to_owned(), "pro_monthly".to_owned()])
        .send(client)
        .await
        .unwrap();
    let mut keys: Vec<String> = found
        .data
        .iter()
        .filter_map(|p| p.lookup_key.clone())
        .collect();
    keys.sort();
    assert_eq!(keys, ["pro_monthly", "starter_monthly"]);

    // Checkout: a declined card keeps the session open, a good one completes it.
    let mut base_item = CreateCheckoutSessionLineItems::new();
    base_item.price = Some(starter.id.as_str().to_owned());
    base_item.quantity = Some(1);
    let mut usage_item = CreateCheckoutSessionLineItems::new();
    usage_item.price = Some(calls.id.as_str().to_owned());
    let mut sub_data = CreateCheckoutSessionSubscriptionData::new();
    sub_data.metadata = Some(map(&[("organization_id", "42")]));
    let session = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Subscription)
        .customer(&cus)
        .client_reference_id("org_42")
        .line_items(vec![base_item, usage_item])
        .subscription_data(sub_data)
        .success_url("https://tollgate.test/billing/success?session_id={CHECKOUT_SESSION_ID}")
        .cancel_url("https://tollgate.test/billing")
        .metadata(map(&[("organization_id", "42")]))
        .send(client)
        .await
        .unwrap();
    let url = session.url.clone().unwrap();
    assert!(url.starts_with(&env.double.base_url()), "{url}");
    let page = env
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Pay") && page.contains("card_number"),
        "{page}"
    );

    let declined = env.submit_card(&url, "4000000000000002").await;
    assert_eq!(declined.status().as_u16(), 402);
    assert!(declined
        .text()
        .await
        .unwrap()
        .contains("Your card was declined."));
    let still_open = RetrieveCheckoutSession::new(session.id.clone())
        .send(client)
        .await
        .unwrap();
    assert_eq!(still_open.status, Some(CheckoutSessionStatus::Open));

    let paid = env.submit_card(&url, "4242424242424242").await;
    assert_eq!(paid.status().as_u16(), 303);
    let location = paid.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        format!(
            "https://tollgate.test/billing/success?session_id={}",
            session.id.as_str()
        )
    );

    let completed = RetrieveCheckoutSession::new(session.id.clone())
        .expand(vec!["subscription".to_owned()])
        .send(client)
        .await
        .unwrap();
    assert_eq!(completed.status, Some(CheckoutSessionStatus::Complete));
    assert_eq!(completed.client_reference_id.as_deref(), Some("org_42"));
    let Some(Expandable::Object(sub)) = completed.subscription else {
        panic!("subscription not expanded: {:?}", completed.subscription)
    };
    assert_eq!(sub.status, SubscriptionStatus::Active);
    assert_eq!(
        sub.metadata.get("organization_id").map(String::as_str),
        Some("42")
    );
    let sub_id = sub.id.as_str().to_owned();
    let base_si = sub
        .items
        .data
        .iter()
        .find(|i| i.price.id == starter.id)
        .unwrap()
        .id
        .as_str()
        .to_owned();
    let (period_start, period_end) = (
        sub.items.data[0].current_period_start,
        sub.items.data[0].current_period_end,
    );
    assert!(period_end - period_start >= 28 * 86_400);

    let done = env.receiver.wait_for("checkout.session.completed", 1).await;
    let EventObject::CheckoutSessionCompleted(cs) = &done[0].data.object else {
        panic!("wrong object")
    };
    assert_eq!(cs.id, session.id);
    env.receiver.wait_for("invoice.paid", 1).await;
    env.receiver
        .wait_for("customer.subscription.created", 1)
        .await;
    let first = ListInvoice::new()
        .subscription(&sub_id)
        .send(client)
        .await
        .unwrap();
    assert_eq!(first.data.len(), 1);
    assert_eq!(first.data[0].amount_paid, 2900);
    assert_eq!(first.data[0].status, Some(InvoiceStatus::Paid));
    assert!(first.data[0].hosted_invoice_url.is_some() && first.data[0].number.is_some());
    let pdf = env
        .http
        .get(first.data[0].invoice_pdf.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-1.4"));

    // Half way through the period: preview $29 → $79, then apply it.
    let midpoint = period_start + (period_end - period_start) / 2;
    env.double
        .advance_subscription(&sub_id, Some(midpoint))
        .unwrap();
    let mut change = CreatePreviewInvoiceSubscriptionDetailsItems::new();
    change.id = Some(base_si.clone());
    change.price = Some(pro.id.as_str().to_owned());
    let mut details = CreatePreviewInvoiceSubscriptionDetails::new();
    details.items = Some(vec![change]);
    details.proration_date = Some(midpoint);
    details.proration_behavior =
        Some(CreatePreviewInvoiceSubscriptionDetailsProrationBehavior::CreateProrations);
    let preview = CreatePreviewInvoice::new()
        .customer(&cus)
        .subscription(&sub_id)
        .subscription_details(details)
        .send(client)
        .await
        .unwrap();
    // Unused half of $29.00 credited (−$14.50), remaining half of $79.00 charged (+$39.50).
    let mut prorations = proration_lines(&preview);
    prorations.sort();
    assert_eq!(prorations, [-1450, 3950]);
    assert_eq!(prorations.iter().sum::<i64>(), 2500);
    assert_eq!(
        preview.amount_due,
        2500 + 7900,
        "prorations plus the next period at the new price"
    );
    assert!(preview.id.is_none());

    let mut item = UpdateSubscriptionItems::new();
    item.id = Some(base_si.clone());
    item.price = Some(pro.id.as_str().to_owned());
    let upgraded = UpdateSubscription::new(sub_id.as_str())
        .items(vec![item])
        .proration_behavior(UpdateSubscriptionProrationBehavior::CreateProrations)
        .proration_date(midpoint)
        .send(client)
        .await
        .unwrap();
    assert_eq!(
        upgraded
            .items
            .data
            .iter()
            .find(|i| i.id.as_str() == base_si)
            .unwrap()
            .price
            .id,
        pro.id
    );
    let updated = env
        .receiver
        .wait_for("customer.subscription.updated", 1)
        .await;
    assert!(updated.iter().any(|e| e.data.previous_attributes.is_some()));

    // Usage: the same identifier counts once.
    for (identifier, value) in [("req-1", "120"), ("req-1", "120"), ("req-2", "30")] {
        CreateBillingMeterEvent::new(
            "api_calls",
            map(&[("stripe_customer_id", &cus), ("value", value)]),
        )
        .identifier(identifier)
        .send(client)
        .await
        .unwrap();
    }
    assert_eq!(env.double.meter_total(&cus, Some("api_calls")), 150);
    let reported = common::json(
        env.http
            .get(format!(
                "{}/_double/meter_events?customer={cus}",
                env.double.base_url()
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reported["total"], 150);
    assert_eq!(reported["events"].as_array().unwrap().len(), 2);

    // Renewal with a card whose charges fail: past_due and invoice.payment_failed.
    let swapped = env
        .http
        .post(format!(
            "{}/_double/customers/{cus}/card",
            env.double.base_url()
        ))
        .form(&[("number", "4000000000000341")])
        .send()
        .await
        .unwrap();
    assert_eq!(swapped.status().as_u16(), 200);
    env.double.advance_subscription(&sub_id, None).unwrap();
    let failed = env.receiver.wait_for("invoice.payment_failed", 1).await;
    let EventObject::InvoicePaymentFailed(failed_invoice) = &failed[0].data.object else {
        panic!("wrong object")
    };
    // 150 calls × $0.02 + (−$14.50 + $39.50) + $79.00 next period.
    assert_eq!(failed_invoice.amount_due, 300 + 2500 + 7900);
    assert_eq!(failed_invoice.status, Some(InvoiceStatus::Open));
    env.receiver
        .wait_for("payment_intent.payment_failed", 1)
        .await;
    let past_due = RetrieveSubscription::new(sub_id.as_str())
        .send(client)
        .await
        .unwrap();
    assert_eq!(past_due.status, SubscriptionStatus::PastDue);
    assert_eq!(past_due.items.data[0].current_period_start, period_end);
    let open = ListInvoice::new()
        .customer(&cus)
        .status(InvoiceStatus::Open)
        .send(client)
        .await
        .unwrap();
    assert_eq!(open.data.len(), 1);
    let open_id = open.data[0].id.clone().unwrap();

    // Paying again with the same card fails with Stripe's card error.
    let err = PayInvoice::new(open_id.clone())
        .send(client)
        .await
        .unwrap_err();
    let stripe::StripeError::Stripe(api, 402) = err else {
        panic!("{err:?}")
    };
    assert_eq!(api.decline_code.as_deref(), Some("generic_decline"));

    // The customer replaces the card in the Billing Portal, then the invoice is paid.
    let portal = CreateBillingPortalSession::new()
        .customer(&cus)
        .return_url("https://tollgate.test/billing")
        .send(client)
        .await
        .unwrap();
    let portal_page = env
        .http
        .get(&portal.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        portal_page.contains("Update card")
            && portal_page.contains("https://tollgate.test/billing")
    );
    let changed = env
        .submit_card(&format!("{}/card", portal.url), "4242424242424242")
        .await;
    assert_eq!(changed.status().as_u16(), 303);
    env.receiver.wait_for("customer.updated", 3).await;
    let paid = PayInvoice::new(open_id).send(client).await.unwrap();
    assert_eq!(paid.status, Some(InvoiceStatus::Paid));
    assert_eq!(paid.amount_paid, 10_700);
    env.receiver.wait_for("invoice.paid", 2).await;
    let active = RetrieveSubscription::new(sub_id.as_str())
        .send(client)
        .await
        .unwrap();
    assert_eq!(active.status, SubscriptionStatus::Active);

    // Cancel at period end, then the period ends.
    let canceling = UpdateSubscription::new(sub_id.as_str())
        .cancel_at_period_end(true)
        .send(client)
        .await
        .unwrap();
    assert!(canceling.cancel_at_period_end);
    assert_eq!(
        canceling.cancel_at,
        Some(canceling.items.data[0].current_period_end)
    );
    env.double.advance_subscription(&sub_id, None).unwrap();
    let deleted = env
        .receiver
        .wait_for("customer.subscription.deleted", 1)
        .await;
    let EventObject::CustomerSubscriptionDeleted(gone) = &deleted[0].data.object else {
        panic!("wrong object")
    };
    assert_eq!(gone.status, SubscriptionStatus::Canceled);
    env.settle().await;

    // Every delivery was verified and parsed by the receiver; the event log lists them all.
    assert!(env.receiver.received().iter().all(|r| r.answered == 200));
    let events = ListEvent::new().limit(100).send(client).await.unwrap();
    assert_eq!(events.data.len(), env.receiver.events().len());
}

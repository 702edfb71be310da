//! Stripe's protocol as the double speaks it: authentication, error shapes, idempotency replay,
//! lists, webhook signatures, retries, duplicates and out-of-order delivery.

use crate::common;

use std::time::Duration;

use common::{map, Env, API_KEY, WEBHOOK_SECRET};
use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_core::customer::{
    CreateCustomer, ListCustomer, RetrieveCustomer, SearchCustomer, UpdateCustomer,
};
use stripe_product::price::{
    CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, ListPrice,
};
use stripe_product::product::CreateProduct;
use stripe_shared::{ApiErrorsCode, ApiErrorsType};
use stripe_types::Currency;
use stripe_webhook::{Webhook, WebhookError};

#[tokio::test]
async fn requests_without_the_secret_key_get_401_in_stripes_shape() {
    let env = Env::start().await;
    let response = env
        .http
        .get(format!("{}/v1/customers", env.double.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body = common::json(response).await;
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("did not provide an API key"));

    let wrong = stripe::ClientBuilder::new("sk_test_not_the_right_key")
        .url(env.double.base_url())
        .build()
        .unwrap();
    let err = ListCustomer::new().send(&wrong).await.unwrap_err();
    let stripe::StripeError::Stripe(api, 401) = err else {
        panic!("{err:?}")
    };
    assert_eq!(api.type_, ApiErrorsType::InvalidRequestError);
    assert!(api.message.unwrap().contains("sk_test_****"));
}

#[tokio::test]
async fn unknown_objects_and_bad_parameters_answer_404_and_400() {
    let env = Env::start().await;
    let err = RetrieveCustomer::new("cus_missing")
        .send(&env.client)
        .await
        .unwrap_err();
    let stripe::StripeError::Stripe(api, 404) = err else {
        panic!("{err:?}")
    };
    assert_eq!(api.code, Some(ApiErrorsCode::ResourceMissing));
    assert_eq!(
        api.message.as_deref(),
        Some("No such customer: 'cus_missing'")
    );

    CreateProduct::new("Plan")
        .id("plan")
        .send(&env.client)
        .await
        .unwrap();
    let err = CreatePrice::new(Currency::USD)
        .product("plan")
        .send(&env.client)
        .await
        .unwrap_err();
    let stripe::StripeError::Stripe(api, 400) = err else {
        panic!("{err:?}")
    };
    assert_eq!(api.param.as_deref(), Some("unit_amount"));
    assert_eq!(api.code, Some(ApiErrorsCode::ParameterMissing));

    let raw = env
        .http
        .get(format!("{}/v1/nothing_here", env.double.base_url()))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 404);
    let body = common::json(raw).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Unrecognized request URL"));
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_response() {
    let env = Env::start().await;
    let key = || RequestStrategy::Idempotent(IdempotencyKey::new("signup-42").unwrap());
    let first = CreateCustomer::new()
        .email("a@acme.test")
        .customize()
        .request_strategy(key())
        .send(&env.client)
        .await
        .unwrap();
    let again = CreateCustomer::new()
        .email("a@acme.test")
        .customize()
        .request_strategy(key())
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(
        ListCustomer::new()
            .send(&env.client)
            .await
            .unwrap()
            .data
            .len(),
        1
    );
    CreateCustomer::new()
        .email("c@acme.test")
        .send(&env.client)
        .await
        .unwrap();
    let by_email = ListCustomer::new()
        .email("a@acme.test")
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(
        by_email.data.iter().map(|c| &c.id).collect::<Vec<_>>(),
        [&first.id]
    );
    let found = SearchCustomer::new("email:'c@acme.test'")
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(found.data.len(), 1);
    assert_eq!(found.data[0].email.as_deref(), Some("c@acme.test"));

    let err = CreateCustomer::new()
        .email("b@acme.test")
        .customize()
        .request_strategy(key())
        .send(&env.client)
        .await
        .unwrap_err();
    let stripe::StripeError::Stripe(api, 400) = err else {
        panic!("{err:?}")
    };
    assert_eq!(api.type_, ApiErrorsType::IdempotencyError);
}

#[tokio::test]
async fn lists_page_with_limit_and_starting_after_and_filter_by_lookup_key() {
    let env = Env::start().await;
    CreateProduct::new("Plan")
        .id("plan")
        .send(&env.client)
        .await
        .unwrap();
    for (amount, key) in [(1000, "a"), (2000, "b"), (3000, "c")] {
        CreatePrice::new(Currency::USD)
            .product("plan")
            .unit_amount(amount)
            .lookup_key(key)
            .recurring(CreatePriceRecurring::new(
                CreatePriceRecurringInterval::Month,
            ))
            .send(&env.client)
            .await
            .unwrap();
    }
    let page = ListPrice::new().limit(2).send(&env.client).await.unwrap();
    assert_eq!(
        page.data.iter().map(|p| p.unit_amount).collect::<Vec<_>>(),
        [Some(3000), Some(2000)],
        "newest first"
    );
    assert!(page.has_more);
    let rest = ListPrice::new()
        .limit(2)
        .starting_after(page.data[1].id.as_str())
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(rest.data.len(), 1);
    assert!(!rest.has_more);
    let by_key = ListPrice::new()
        .lookup_keys(vec!["b".to_owned()])
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(by_key.data.len(), 1);
    assert_eq!(by_key.data[0].unit_amount, Some(2000));

    // A lookup key is unique unless transferred.
    let taken = CreatePrice::new(Currency::USD)
        .product("plan")
        .unit_amount(4000)
        .lookup_key("b")
        .recurring(CreatePriceRecurring::new(
            CreatePriceRecurringInterval::Month,
        ))
        .send(&env.client)
        .await;
    assert!(matches!(taken, Err(stripe::StripeError::Stripe(_, 400))));
    let moved = CreatePrice::new(Currency::USD)
        .product("plan")
        .unit_amount(4000)
        .lookup_key("b")
        .transfer_lookup_key(true)
        .recurring(CreatePriceRecurring::new(
            CreatePriceRecurringInterval::Month,
        ))
        .send(&env.client)
        .await
        .unwrap();
    let by_key = ListPrice::new()
        .lookup_keys(vec!["b".to_owned()])
        .send(&env.client)
        .await
        .unwrap();
    assert_eq!(
        by_key.data.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        [moved.id]
    );
}

#[tokio::test]
async fn webhooks_are_signed_with_the_endpoint_secret_only() {
    let env = Env::start().await;
    CreateCustomer::new()
        .email("a@acme.test")
        .send(&env.client)
        .await
        .unwrap();
    env.receiver.wait_for("customer.created", 1).await;
    let delivery = env.receiver.received().remove(0);
    assert!(delivery.signature.starts_with("t="));
    assert!(Webhook::construct_event(&delivery.body, &delivery.signature, WEBHOOK_SECRET).is_ok());
    let wrong = Webhook::construct_event(&delivery.body, &delivery.signature, "whsec_someone_else");
    assert!(
        matches!(wrong, Err(WebhookError::BadSignature)),
        "{wrong:?}"
    );
    let tampered = delivery.body.replace("a@acme.test", "evil@acme.test");
    assert!(matches!(
        Webhook::construct_event(&tampered, &delivery.signature, WEBHOOK_SECRET),
        Err(WebhookError::BadSignature)
    ));
    assert_eq!(delivery.json["api_version"], stripe_double::API_VERSION);
    assert_eq!(delivery.json["data"]["object"]["email"], "a@acme.test");
}

#[tokio::test]
async fn a_failed_delivery_is_retried_until_it_succeeds() {
    let env = Env::start().await;
    env.receiver.fail_next(2);
    let customer = CreateCustomer::new()
        .email("a@acme.test")
        .send(&env.client)
        .await
        .unwrap();
    env.receiver.wait_for("customer.created", 1).await;
    env.settle().await;
    let attempts: Vec<(u32, Option<u16>)> = env
        .double
        .deliveries()
        .iter()
        .map(|d| (d.attempt, d.status))
        .collect();
    assert_eq!(attempts, [(1, Some(500)), (2, Some(500)), (3, Some(200))]);
    assert_eq!(env.receiver.received().len(), 3);
    let event = &env.receiver.events()[0];
    let stripe_webhook::EventObject::CustomerCreated(c) = &event.data.object else {
        panic!("wrong object")
    };
    assert_eq!(c.id, customer.id);
}

#[tokio::test]
async fn events_can_be_sent_twice_and_out_of_order() {
    let env = Env::start().await;
    env.double.hold_webhooks();
    let customer = CreateCustomer::new()
        .email("a@acme.test")
        .send(&env.client)
        .await
        .unwrap();
    UpdateCustomer::new(customer.id.as_str())
        .name("Acme")
        .metadata(map(&[("plan", "pro")]))
        .send(&env.client)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        env.receiver.received().is_empty(),
        "held deliveries must wait"
    );
    env.double.release_webhooks(true);
    env.receiver.wait_for("customer.created", 1).await;
    assert_eq!(
        env.receiver.kinds(),
        ["customer.updated", "customer.created"]
    );

    let updated = env.receiver.events()[0].clone();
    assert!(updated.data.previous_attributes.is_some());
    let raw = &env.receiver.received()[0].json["data"]["previous_attributes"];
    assert_eq!(raw["name"], serde_json::Value::Null);
    assert_eq!(raw["metadata"], serde_json::json!({}));
    assert!(
        raw.get("email").is_none(),
        "unchanged fields are not listed: {raw}"
    );

    let resent = env
        .http
        .post(format!(
            "{}/_double/events/{}/resend",
            env.double.base_url(),
            updated.id.as_str()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resent.status().as_u16(), 200);
    env.receiver.wait_for("customer.updated", 2).await;
    let ids: Vec<String> = env
        .receiver
        .events()
        .iter()
        .map(|e| e.id.as_str().to_owned())
        .collect();
    assert_eq!(ids[0], ids[2], "the same event id arrives twice");
}

//! Outgoing webhooks of the invoice run (issue 14): each invoice issued is an
//! `invoice.issued` event, and the period it closes a `billing_cycle.ended` event
//! with the usage counted in it; a second run emits nothing; with no endpoint,
//! nothing is written at all.

use super::*;

async fn events(t: &Tollgate) -> Vec<(String, Value)> {
    sqlx::query_as("SELECT type, data FROM webhook_events ORDER BY seq")
        .fetch_all(&t.pool)
        .await
        .unwrap()
}

async fn platform_endpoint(t: &Tollgate) {
    db::webhook_endpoints::insert(
        &t.pool,
        &db::webhook_endpoints::NewEndpoint {
            id: Uuid::now_v7(),
            account_id: None,
            url: "https://hooks.example.com/tollgate",
            description: "",
            event_types: &["invoice.issued".to_owned(), "billing_cycle.ended".to_owned()],
            secret: &[1u8; 24],
        },
    )
    .await
    .unwrap();
}

#[sqlx::test]
async fn the_invoice_run_emits_the_invoice_and_the_cycle_with_its_usage_once(pool: PgPool) {
    let t = tollgate(pool).await;
    let (_, quiet) = customer(&t, false).await;
    subscribe(&t, quiet, "standard", at("2026-09-01T00:00:00Z")).await;
    // No endpoint yet: the first account's run writes no event.
    run_month(&t, "2026-08", "2026-09-02T09:00:00Z").await;
    assert!(events(&t).await.is_empty());

    platform_endpoint(&t).await;
    let (_, account) = customer(&t, false).await;
    subscribe(&t, account, "standard", at("2026-09-01T00:00:00Z")).await;
    event(&t, account, "api_calls", "60000", "2026-09-10T00:00:00Z", json!({})).await;
    let report = september(&t).await;
    assert_eq!(report.issued.len(), 2);
    let got = events(&t).await;
    let types: Vec<&str> = got.iter().map(|(ty, _)| ty.as_str()).collect();
    assert_eq!(types.iter().filter(|ty| **ty == "invoice.issued").count(), 2, "{types:?}");
    assert_eq!(types.iter().filter(|ty| **ty == "billing_cycle.ended").count(), 2, "{types:?}");
    let cycle = got
        .iter()
        .find(|(ty, d)| ty == "billing_cycle.ended" && d["object"]["account"] == json!(account))
        .map(|(_, d)| &d["object"])
        .expect("the account's cycle");
    assert_eq!(cycle["period_start"], "2026-09-01T00:00:00+00:00");
    assert_eq!(cycle["usage"][0]["meter"], "api_calls");
    assert_eq!(cycle["usage"][0]["quantity"], "60000");
    assert_eq!(cycle["invoice"]["status"], "open");
    assert_eq!(cycle["invoice"]["total"], json!(cycle["invoice"]["subtotal"]));

    september(&t).await;
    assert_eq!(events(&t).await.len(), got.len(), "a second run emits nothing");
    // The account is told in the app too, with the period's usage, once.
    let told: Vec<String> = sqlx::query_scalar("SELECT body FROM notifications WHERE account_id = $1 AND kind = 'billing_cycle_ended'")
        .bind(account)
        .fetch_all(&t.pool)
        .await
        .unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].starts_with("Usage this period: api_calls 60000. Invoice TG-"), "{}", told[0]);
}

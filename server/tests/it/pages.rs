//! Pages rendered on the server while the process builds another router.

use crate::support;

use std::time::{Duration, Instant};
use support::spawn_app;
use tollgate_server::config::Config;

/// Building a router renders the app once with resource loading suspended for the
/// whole process (leptos-rs/leptos#4773); a page whose data was first asked for
/// meanwhile never rendered and answered 503 after 30 s. The tests build one
/// router per test, in parallel, and met this at random.
#[sqlx::test(migrations = "../migrations")]
async fn pages_render_while_another_router_is_built(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let building = tokio::task::spawn_blocking({
        let t = app.tollgate.clone();
        move || {
            let until = Instant::now() + Duration::from_secs(3);
            let mut built = 0;
            while Instant::now() < until {
                drop(tollgate_server::serve::router(
                    support::state(&t, &Config::default()),
                    false,
                ));
                built += 1;
            }
            built
        }
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut pages = 0;
    while !building.is_finished() {
        let res = client
            .get(app.url("/pricing"))
            .header("accept", "text/html")
            .send()
            .await
            .expect("the pricing page answers while a router is built");
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().contains("Estimate your bill"));
        pages += 1;
    }
    let built = building.await.unwrap();
    assert!(built > 1 && pages > 1, "{built} routers, {pages} pages");
}

/// The public pages carry no script, so a visitor downloads no WASM there (issue
/// 12's bundle goal); a signed-in page loads and hydrates the app.
#[sqlx::test(migrations = "../migrations")]
async fn public_pages_load_no_wasm_and_signed_in_pages_do(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let loads_wasm = |html: &str| html.contains(r#"rel="modulepreload""#) || html.contains(".wasm");
    for path in tollgate_app::hydration::STATIC_PAGES {
        let (outcome, html) = support::admin::page_outcome(&app, path, None).await;
        assert_eq!(outcome, support::admin::Outcome::Allowed, "{path}");
        assert!(html.contains(r#"data-hydrates="false""#), "{path}");
        assert!(!loads_wasm(&html), "{path} loads the bundle");
        assert!(
            !html.contains("__RESOLVED_RESOURCES["),
            "{path} sends resource data"
        );
    }
    let customer = app.customer(Some("free")).await;
    let cookie = support::admin::log_in(&app, &customer.email, support::PASSWORD).await;
    let (outcome, html) = support::admin::page_outcome(&app, "/dashboard", Some(&cookie)).await;
    assert_eq!(outcome, support::admin::Outcome::Allowed);
    assert!(loads_wasm(&html) && !html.contains("data-hydrates"));
    assert!(
        html.contains("__RESOLVED_RESOURCES["),
        "the dashboard's data is sent for hydration"
    );
    // Signed in or not, with a query or not, the pricing page stays static.
    let (_, html) =
        support::admin::page_outcome(&app, "/pricing?interval=year", Some(&cookie)).await;
    assert!(!loads_wasm(&html) && html.contains(r#"data-hydrates="false""#));
}

/// The pricing page's estimate, as the hydrated app asks for it after a link to
/// `/pricing` (nothing typed: the usage map is sent as nothing at all). It failed
/// with HTTP 500 before `usage` defaulted to empty.
#[sqlx::test(migrations = "../migrations")]
async fn the_estimate_answers_with_no_usage_typed(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let res = support::admin::call(
        &app,
        "estimate",
        None,
        &[("interval", "month".into()), ("seats", String::new())],
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["meters"].as_array().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["plans"].as_array().is_some_and(Vec::is_empty),
        "nothing priced before usage is typed: {body}"
    );
    let res = support::admin::call(
        &app,
        "estimate",
        None,
        &[
            ("interval", "month".into()),
            ("seats", "2".into()),
            ("usage[queries]", "2000".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["plans"].as_array().is_some_and(|p| !p.is_empty()),
        "{body}"
    );
}

/// A server function whose arguments cannot be read (a required field missing)
/// answers 422 with a form error, not 500: bad input is not an outage.
#[sqlx::test(migrations = "../migrations")]
async fn unreadable_server_function_arguments_answer_422(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let res = support::admin::call(&app, "estimate", None, &[("interval", "month".into())]).await;
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body.to_string().contains("could not be read"), "{body}");
}

/// The dashboard's usage charts come drawn in the page itself (they show before
/// hydration), each with its text alternative and a table of its numbers; a tab
/// picks the meter, and an unknown one falls back to the first.
#[sqlx::test(migrations = "../migrations")]
async fn the_dashboard_draws_its_usage_charts_on_the_server(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let customer = app.customer(Some("free")).await;
    assert_eq!(app.queries(&customer.key, "q", 7).await.status(), 202);
    let cookie = support::admin::log_in(&app, &customer.email, support::PASSWORD).await;
    let (outcome, html) = support::admin::page_outcome(&app, "/dashboard", Some(&cookie)).await;
    assert_eq!(outcome, support::admin::Outcome::Allowed);
    assert!(html.contains(r#"data-testid="usage-charts" data-chart-meter="queries""#), "{html}");
    // Every resource the page sends for hydration resolved (a resource made in a
    // suspended view is made twice on the server, the first time without the
    // request's context: it answered an error here, and hydration failed).
    assert!(!html.contains(r#"{\"Err\""#), "no resource failed");
    for id in ["chart-usage-period", "chart-usage-periods"] {
        let at = html.find(&format!(r#"data-testid="{id}""#)).expect(id);
        let figure = &html[at..];
        assert!(figure.contains(r#"role="img""#) && figure.contains("<svg"), "{id}");
    }
    assert!(
        html.contains("7 of 50 queries used by "),
        "the summary says the usage against the limit"
    );
    assert!(html.contains(r#"data-testid="usage-days""#));
    assert!(
        html.contains(r#"data-testid="owed-summary""#) && html.contains("so far: $0.00"),
        "the owner sees what the free plan's invoice comes to"
    );

    let (_, tokens) =
        support::admin::page_outcome(&app, "/dashboard?meter=tokens", Some(&cookie)).await;
    assert!(tokens.contains(r#"data-chart-meter="tokens""#));
    assert!(tokens.contains(r#"href="/dashboard?meter=queries""#));
    let (_, unknown) =
        support::admin::page_outcome(&app, "/dashboard?meter=nope", Some(&cookie)).await;
    assert!(unknown.contains(r#"data-chart-meter="queries""#));
}

/// The organization's usage page charts its history split by member and by the
/// meter's properties, drawn on the server, with the numbers in a table; names
/// stand for user ids, and events naming nobody have their own row.
#[sqlx::test(migrations = "../migrations")]
async fn the_org_usage_page_splits_history_by_member_and_model(pool: sqlx::PgPool) {
    use tollgate::service::ingest::{self, Draft};
    let app = spawn_app(pool).await;
    let t = app.tollgate.clone();
    let owner = app.customer(None).await;
    let me = tollgate::service::Actor::user(owner.user_id);
    let org = tollgate::service::organizations::create(
        &t.pool,
        "Charted Inc",
        "charted",
        "b@charted.example",
        owner.user_id,
        &me,
    )
    .await
    .unwrap();
    let draft = |key: &str, quantity: i64, user: Option<&str>, model: &str| Draft {
        account: None,
        meter: "queries".into(),
        quantity: serde_json::json!(quantity),
        timestamp: None,
        user: user.map(Into::into),
        idempotency_key: key.into(),
        properties: serde_json::from_value(serde_json::json!({ "model": model })).unwrap(),
    };
    ingest::record(
        &t,
        &tollgate::service::keys::Caller::Account {
            key_id: uuid::Uuid::nil(),
            account_id: org,
        },
        vec![
            draft("a", 6, Some(&owner.email), "claude"),
            draft("b", 3, None, "claude"),
            draft("c", 1, None, "gpt-4o"),
        ],
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let cookie = support::admin::log_in(&app, &owner.email, support::PASSWORD).await;

    let (outcome, html) = support::admin::page_outcome(&app, "/orgs/charted/usage", Some(&cookie)).await;
    assert_eq!(outcome, support::admin::Outcome::Allowed);
    assert!(html.contains(r#"data-testid="usage-breakdown" data-chart-meter="queries" data-by="user""#), "{html}");
    assert!(!html.contains(r#"{\"Err\""#), "no resource failed");
    let rows = &html[html.find(r#"data-testid="usage-breakdown-rows""#).expect("rows")..];
    assert!(rows.contains("Test Customer") && rows.contains("60 %"), "the owner by name");
    assert!(rows.contains("No member named") && rows.contains("40 %"));
    assert!(html.contains(r#"data-testid="chart-usage-breakdown""#) && html.contains("<svg"));

    let (_, html) = support::admin::page_outcome(
        &app,
        "/orgs/charted/usage?meter=queries&by=property%3Amodel&granularity=month",
        Some(&cookie),
    )
    .await;
    assert!(html.contains(r#"data-by="property:model""#));
    let rows = &html[html.find(r#"data-testid="usage-breakdown-rows""#).expect("rows")..];
    assert!(rows.contains("claude") && rows.contains("90 %") && rows.contains("gpt-4o"));
    assert!(html.contains("over the last 12 months by model"));

    // A property the meter is not broken down by is refused in words, not a 500.
    let (outcome, html) = support::admin::page_outcome(
        &app,
        "/orgs/charted/usage?by=property%3Aprovider",
        Some(&cookie),
    )
    .await;
    assert_eq!(outcome, support::admin::Outcome::Allowed);
    assert!(html.contains("The history could not be loaded") && html.contains("provider"));
}

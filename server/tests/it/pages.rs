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

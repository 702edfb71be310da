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

//! `sslmode` in DATABASE_URL: Tollgate reaches a PostgreSQL over TLS and verifies it
//! when the URL asks (issue 12; the crate was built without TLS before). The test
//! command gives its private PostgreSQL a certificate from a CA of its own and names
//! that CA in `TOLLGATE_TEST_PG_CA`; with a DATABASE_URL of the caller's and no CA
//! named, only the build's TLS support is checked.

fn url_with(params: &str) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    format!(
        "{base}{}{params}",
        if base.contains('?') { '&' } else { '?' }
    )
}

async fn encrypted(pool: &sqlx::PgPool) -> bool {
    sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(pool)
        .await
        .expect("pg_stat_ssl")
}

#[tokio::test]
async fn connections_are_encrypted_and_the_server_verified_when_the_url_asks() {
    let Ok(ca) = std::env::var("TOLLGATE_TEST_PG_CA") else {
        // DATABASE_URL is a server of the caller's, whose TLS set-up is unknown:
        // at least TLS is built in (without it, sqlx refuses `require` itself).
        match tollgate::db::connect(&url_with("sslmode=require"), 1).await {
            Ok(pool) => assert!(encrypted(&pool).await),
            Err(e) => assert!(!e.to_string().contains("without TLS support"), "{e}"),
        }
        return;
    };
    for params in [
        "sslmode=require".to_string(),
        format!("sslmode=verify-full&sslrootcert={ca}"),
    ] {
        let pool = tollgate::db::connect(&url_with(&params), 1)
            .await
            .unwrap_or_else(|e| panic!("{params}: {e}"));
        assert!(encrypted(&pool).await, "{params}");
    }
    let plain = tollgate::db::connect(&url_with("sslmode=disable"), 1)
        .await
        .unwrap();
    assert!(!encrypted(&plain).await);
    // A server whose certificate no trusted root signed is refused.
    let refused = tollgate::db::connect(&url_with("sslmode=verify-full"), 1).await;
    assert!(
        refused.is_err(),
        "the private CA is not among the webpki roots"
    );
}

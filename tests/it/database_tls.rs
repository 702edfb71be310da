//! `sslmode` in DATABASE_URL: Tollgate reaches a PostgreSQL over TLS and verifies it
//! when the URL asks (issue 12; the crate was built without TLS before). The test
//! command gives its private PostgreSQL a certificate from a CA of its own and names
//! that CA in `TOLLGATE_TEST_PG_CA`.

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
    let ca = std::env::var("TOLLGATE_TEST_PG_CA")
        .expect("TOLLGATE_TEST_PG_CA: run through scripts/test.sh (its private PostgreSQL has TLS), or name the CA of DATABASE_URL's server");
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

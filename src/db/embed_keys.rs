//! `embed_signing_keys` (migration 0026): the one key embed tokens are signed with.

use sqlx::PgExecutor;

/// The signing key, made from `fresh` (32 random bytes) by the first caller; every
/// later caller reads the stored one.
pub async fn get_or_create(db: impl PgExecutor<'_>, fresh: &[u8]) -> Result<Vec<u8>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH made AS (
             INSERT INTO embed_signing_keys (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING RETURNING secret
         )
         SELECT secret FROM made UNION ALL SELECT secret FROM embed_signing_keys WHERE id = 1 LIMIT 1",
    )
    .bind(fresh)
    .fetch_one(db)
    .await
}

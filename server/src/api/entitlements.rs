//! `GET /api/v1/entitlements?account=…`: every feature and meter of the account's
//! effective plan.

use super::auth::ApiCaller;
use super::error::{ApiError, ErrorBody};
use super::query::ApiQuery;
use super::usage::AccountQuery;
use crate::serve::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use tollgate::service::accounts;
use utoipa::ToSchema;

/// The effective plan's values.
#[derive(Serialize, ToSchema)]
pub struct EntitlementsResponse {
    /// Account uuid.
    pub account: String,
    /// Plan key whose entitlements apply (trialing or active); null when none do.
    pub plan: Option<String>,
    /// Every feature of the catalog: the plan's value, or false / null when the plan
    /// lacks it.
    #[schema(value_type = Object)]
    pub features: Map<String, Value>,
    /// Every meter: its limit for this account.
    pub meters: BTreeMap<String, MeterEntitlement>,
}

/// A meter's limit.
#[derive(Serialize, ToSchema)]
pub struct MeterEntitlement {
    /// Included quantity (seats applied); null when unlimited.
    pub limit: Option<String>,
    /// `soft` or `hard`.
    pub enforcement: String,
    /// Hard limits: the usage that may not be passed.
    pub blocks_at: Option<String>,
}

/// The account's effective entitlements.
#[utoipa::path(
    get, path = "/api/v1/entitlements", tag = "entitlements",
    params(AccountQuery),
    responses(
        (status = 200, description = "Entitlements", body = EntitlementsResponse),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn entitlements(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<AccountQuery>,
) -> Result<Json<EntitlementsResponse>, ApiError> {
    let t = &state.tollgate;
    let account_id = accounts::resolve_for_caller(&t.pool, &caller, q.account.as_deref()).await?;
    let catalog = t.catalog.get()?;
    let account = accounts::state(&t.pool, account_id).await?;
    let standing = account.standing();
    let plan = standing.entitled_plan(&catalog);
    let features = catalog
        .features
        .iter()
        .map(|f| {
            let value = standing
                .feature(&catalog, f.key.as_str())
                .as_ref()
                .map_or_else(
                    || match f.kind {
                        tollgate::catalog::FeatureKind::Boolean => Value::Bool(false),
                        _ => Value::Null,
                    },
                    tollgate::catalog::FeatureValue::to_json,
                );
            (f.key.to_string(), value)
        })
        .collect();
    let meters = catalog
        .meters
        .iter()
        .map(|m| {
            let l = standing.limit(&catalog, m.key.as_str());
            (
                m.key.to_string(),
                MeterEntitlement {
                    limit: l.included.map(|d| d.normalize().to_string()),
                    enforcement: l.enforcement.as_str().into(),
                    blocks_at: l.blocks_at.map(|d| d.normalize().to_string()),
                },
            )
        })
        .collect();
    Ok(Json(EntitlementsResponse {
        account: account_id.to_string(),
        plan: plan.map(|p| p.key.to_string()),
        features,
        meters,
    }))
}

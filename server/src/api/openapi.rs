//! `GET /api/v1/openapi.json`: the OpenAPI 3 document, generated from the handler
//! and body types above (never written by hand).

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tollgate API", version = "1", description = "Usage events, entitlement checks and usage for the product's backend. Errors are `{\"error\": {\"code\", \"message\", \"details\"}}`."),
    paths(super::events::record, super::check::check, super::usage::usage, super::entitlements::entitlements),
    components(schemas(
        super::events::EventsRequest, super::events::EventIn, super::events::EventsAccepted,
        super::check::CheckRequest, super::check::CheckResponse, super::check::MeterCheckResponse,
        super::check::FeatureCheckResponse, super::check::RateCheckResponse,
        super::usage::UsageResponse, super::usage::MeterUsageOut,
        super::entitlements::EntitlementsResponse, super::entitlements::MeterEntitlement,
        super::error::ErrorBody, super::error::ErrorDetail,
    )),
    modifiers(&BearerKey),
    tags((name = "usage", description = "Record and read usage"), (name = "entitlements", description = "Ask what an account may do"))
)]
pub struct ApiDoc;

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tg_sk_… or tg_pk_…")
                    .build(),
            ),
        );
    }
}

/// Serves the document.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

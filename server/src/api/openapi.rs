//! `GET /api/v1/openapi.json`: the OpenAPI 3 document, generated from the handler
//! and body types above (never written by hand).

use crate::serve::AppState;
use axum::extract::State;
use axum::Json;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{Modify, OpenApi};

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tollgate API", version = "1", description = "Usage events, entitlement checks and usage for the product's backend. Errors are `{\"error\": {\"code\", \"message\", \"details\"}}`."),
    paths(super::events::record, super::corrections::void, super::check::check, super::usage::usage, super::history::history, super::entitlements::entitlements, super::estimate::estimate, super::embed_tokens::issue, super::webhook_endpoints::list, super::webhook_endpoints::create, super::webhook_endpoints::get, super::webhook_endpoints::update, super::webhook_endpoints::delete, super::webhook_endpoints::rotate_secret, super::webhook_endpoints::deliveries, super::webhook_endpoints::delivery, super::webhook_endpoints::replay),
    components(schemas(
        super::events::EventsRequest, super::events::EventIn, super::events::EventsAccepted,
        super::corrections::VoidRequest, super::corrections::VoidResponse, super::corrections::VoidedMeter, super::corrections::AdjustmentOut,
        super::check::CheckRequest, super::check::CheckResponse, super::check::MeterCheckResponse,
        super::check::FeatureCheckResponse, super::check::RateCheckResponse,
        super::usage::UsageResponse, super::usage::MeterUsageOut,
        super::history::HistoryResponse, super::history::SeriesOut, super::history::PointOut,
        super::entitlements::EntitlementsResponse, super::entitlements::MeterEntitlement,
        super::embed_tokens::EmbedTokenRequest, super::embed_tokens::EmbedTokenResponse,
        super::estimate::EstimateRequest, super::estimate::EstimateResponse, super::estimate::EstimateLine,
        super::webhook_endpoints::CreateEndpointRequest, super::webhook_endpoints::UpdateEndpointRequest, super::webhook_endpoints::EndpointOut,
        super::webhook_endpoints::EndpointWithSecret, super::webhook_endpoints::EndpointList, super::webhook_endpoints::DeliveryOut,
        super::webhook_endpoints::DeliveryList, super::webhook_endpoints::ReplayOut, super::webhook_endpoints::DeliveryDetailOut, super::webhook_endpoints::AttemptOut,
        super::error::ErrorBody, super::error::ErrorDetail,
    )),
    modifiers(&BearerKey),
    tags((name = "usage", description = "Record and read usage"), (name = "entitlements", description = "Ask what an account may do"), (name = "billing", description = "What plans cost"), (name = "embed", description = "Widgets the product frames"), (name = "webhooks", description = "Endpoints that receive signed events (the list of event types is added when served)"))
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

/// Serves the document, naming the loaded catalog's keys: `meter` of an event takes
/// one of its meters, `feature` of a check one of its meters or features (any
/// other is a `400`). Without a catalog the fields stay free strings.
pub async fn document(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    if let Ok(catalog) = state.tollgate.catalog.get() {
        let meters: Vec<Value> = catalog
            .meters
            .iter()
            .map(|m| Value::from(m.key.as_str()))
            .collect();
        let features = meters
            .iter()
            .cloned()
            .chain(catalog.features.iter().map(|f| Value::from(f.key.as_str())))
            .collect();
        name_keys(&mut doc, "EventIn", "meter", meters);
        name_keys(&mut doc, "CheckRequest", "feature", features);
    }
    any_of(&mut doc, "CheckResponse");
    describe_webhooks(&mut doc);
    Json(doc)
}

/// The `webhooks` tag's description: how deliveries look and are signed, and
/// every event type (from [`tollgate::webhook::EventType`], so it cannot drift).
fn describe_webhooks(doc: &mut utoipa::openapi::OpenApi) {
    let types: String = tollgate::webhook::EventType::ALL
        .iter()
        .map(|t| format!("\n- `{}`: {}.", t.as_str(), t.description()))
        .collect();
    let text = format!(
        "Endpoints that receive events. Each delivery is a POST of JSON \
         `{{\"type\", \"id\", \"created_at\", \"sequence\", \"data\": {{\"object\": …}}}}` signed per Standard Webhooks \
         (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`); verify it with a Standard Webhooks \
         library and the endpoint's `whsec_…` secret. A 2xx answer within 10 s is a success; anything else is \
         retried with exponential back-off for 3 days. `data.object` is the object's state after the change; \
         `sequence` grows with every event. docs/WEBHOOKS.md has an example of each payload. Event types:{types}"
    );
    if let Some(tag) = doc.tags.as_mut().and_then(|tags| tags.iter_mut().find(|t| t.name == "webhooks")) {
        tag.description = Some(text);
    }
}

/// Makes the untagged answer `schema` an `anyOf`: a rate feature's answer carries
/// the fields of a plain feature's answer too, so it matches both shapes, which a
/// `oneOf` (exactly one) forbids.
fn any_of(doc: &mut utoipa::openapi::OpenApi, schema: &str) {
    let Some(s) = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(schema))
    else {
        return;
    };
    if let RefOr::T(Schema::OneOf(one)) = s {
        let mut any = utoipa::openapi::schema::AnyOf::new();
        any.items = std::mem::take(&mut one.items);
        any.description = one.description.take();
        *s = RefOr::T(Schema::AnyOf(any));
    }
}

/// Restricts the string property `field` of schema `schema` to `keys`.
fn name_keys(doc: &mut utoipa::openapi::OpenApi, schema: &str, field: &str, keys: Vec<Value>) {
    let property = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(schema))
        .and_then(|s| match s {
            RefOr::T(Schema::Object(o)) => o.properties.get_mut(field),
            _ => None,
        });
    if let Some(RefOr::T(Schema::Object(p))) = property {
        p.enum_values = Some(keys);
    }
}

//! The double's HTTP surface: Stripe's `/v1` API (behind the secret-key check and `Idempotency-Key`
//! replay), the hosted pages, and the double-only `/_double` endpoints.

mod api;
mod double;
mod middleware;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::{Json, Router};
use serde_json::Value;

use crate::error::ApiError;
use crate::form::Params;
use crate::state::{expand, RequestInfo, Store};
use crate::{ids, pages, Shared};

/// Handler state.
pub type App = Arc<Shared>;

/// The whole router: `/v1/…` (authenticated), hosted pages and `/_double/…`.
pub fn router(shared: App) -> Router {
    let v1 = api::routes()
        .fallback(unknown_url)
        .method_not_allowed_fallback(unknown_url)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            middleware::idempotency,
        ))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            middleware::auth,
        ));
    Router::new()
        .nest("/v1", v1)
        .merge(pages::routes())
        .merge(double::routes())
        .layer(axum::middleware::from_fn(middleware::log))
        .with_state(shared)
}

async fn unknown_url(method: Method, uri: Uri) -> Response {
    ApiError::unknown_url(method.as_str(), uri.path()).into_response()
}

/// Runs one API operation on the store: records the request for events' `request` field, applies
/// `expand[]`, and answers with the JSON or Stripe's error.
fn run(
    app: &App,
    headers: &HeaderMap,
    params: &Params,
    f: impl FnOnce(&mut Store, &Params) -> Result<Value, ApiError>,
) -> Response {
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let result = app.with(|store| {
        store.request = Some(RequestInfo {
            id: ids::id("req"),
            idempotency_key,
        });
        let result = f(store, params).map(|mut value| {
            expand(store, &mut value, &params.strings("expand"));
            value
        });
        store.request = None;
        result
    });
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => e.into_response(),
    }
}

type Op0 = fn(&mut Store, &Params) -> Result<Value, ApiError>;
type Op1 = fn(&mut Store, &str, &Params) -> Result<Value, ApiError>;

/// `POST` with a form body.
fn post0(f: Op0) -> MethodRouter<App> {
    axum::routing::post(
        move |State(app): State<App>, headers: HeaderMap, body: String| async move {
            run(&app, &headers, &Params::parse(&body), f)
        },
    )
}

/// `GET` with a query string.
fn get0(f: Op0) -> MethodRouter<App> {
    axum::routing::get(
        move |State(app): State<App>, headers: HeaderMap, uri: Uri| async move {
            run(
                &app,
                &headers,
                &Params::parse(uri.query().unwrap_or_default()),
                f,
            )
        },
    )
}

/// `POST /…/{id}` with a form body.
fn post1(f: Op1) -> MethodRouter<App> {
    axum::routing::post(
        move |State(app): State<App>,
              axum::extract::Path(id): axum::extract::Path<String>,
              headers: HeaderMap,
              body: String| async move {
            run(&app, &headers, &Params::parse(&body), |s, p| f(s, &id, p))
        },
    )
}

/// `GET /…/{id}` with a query string.
fn get1(f: Op1) -> MethodRouter<App> {
    axum::routing::get(
        move |State(app): State<App>,
              axum::extract::Path(id): axum::extract::Path<String>,
              headers: HeaderMap,
              uri: Uri| async move {
            run(
                &app,
                &headers,
                &Params::parse(uri.query().unwrap_or_default()),
                |s, p| f(s, &id, p),
            )
        },
    )
}

/// `DELETE /…/{id}` (parameters in the query string or body).
fn delete1(f: Op1) -> MethodRouter<App> {
    axum::routing::delete(
        move |State(app): State<App>,
              axum::extract::Path(id): axum::extract::Path<String>,
              headers: HeaderMap,
              uri: Uri,
              body: String| async move {
            let params = if body.is_empty() {
                uri.query().unwrap_or_default().to_owned()
            } else {
                body
            };
            run(&app, &headers, &Params::parse(&params), |s, p| f(s, &id, p))
        },
    )
}

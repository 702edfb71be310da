//! The client's address for the audit log: every request is served inside
//! [`tollgate::db::audit::with_client_ip`], so the changes it makes record who asked
//! from where (issue 12).
//!
//! The address is the TCP peer's. Behind a reverse proxy that is the proxy's own
//! address: forwarded headers are not trusted, since any client can send them.

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;

/// The middleware: serves the request with its peer address as the audit log's
/// client address (none when the connection has no peer, as in router tests).
pub async fn scope(req: Request, next: Next) -> Response {
    match req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    {
        Some(ip) => tollgate::db::audit::with_client_ip(ip, next.run(req)).await,
        None => next.run(req).await,
    }
}

//! The log itself: its head (position and hash, for anchoring a verification). The event feed is
//! `feed.rs`.

use axum::extract::State;
use serde_json::{Value, json};

use super::app::App;
use super::extract::Authenticated;
use crate::error::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(log_head)).routes(routes!(super::feed::events))
}

/// The head of the log: its position and hash (hex), for auditors anchoring a verification.
#[utoipa::path(get, path = "/v1/log/head", security(("bearer" = [])),
    responses((status = 200, description = "position, hash"), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn log_head(State(app): State<App>, Authenticated(_actor): Authenticated) -> axum::Json<Value> {
    let head = *app.shared.head.borrow();
    axum::Json(json!({ "position": head.position, "hash": hex::encode(head.hash) }))
}

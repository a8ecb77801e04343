//! Redemption announcements: the bureau puts approved redemptions on a public list; anyone reads them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::{Command, Jurisdiction};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::app::App;
use super::commands::{CommandAnswer, CommandRequest};
use super::extract::Param;
use super::read::{Filters, ReadOptions, Rows, respond, snapshot, to_json};
use crate::error::{ApiError, Problem};
use crate::views;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(announce_redemptions, announcements)).routes(routes!(announcement))
}

/// `POST /v1/announcements`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementRequest {
    #[schema(value_type = String, example = "guiyang")]
    pub jurisdiction: Jurisdiction,
    pub redemption_ids: Vec<Uuid>,
}

/// The bureau puts approved redemptions on a public announcement list for 5 working days.
#[utoipa::path(post, path = "/v1/announcements", request_body = AnnouncementRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer, description = "RedemptionsAnnounced with announcement_id, announced_on and closes_on"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn announce_redemptions(
    State(app): State<App>,
    CommandRequest { body: request, submitter, .. }: CommandRequest<AnnouncementRequest>,
) -> Result<Response, ApiError> {
    let command = Command::AnnounceRedemptions {
        announcement_id: Uuid::now_v7(),
        jurisdiction: request.jurisdiction,
        redemption_ids: request.redemption_ids,
    };
    submitter.execute(&app, command, StatusCode::CREATED).await
}

/// The public list of redemption announcement lists, in publication order: public, no token needed.
/// `?jurisdiction=` and `?open=true|false` filter it. As CSV, one row per list.
#[utoipa::path(get, path = "/v1/announcements",
    params(super::read::ReadParams, ("jurisdiction" = Option<String>, Query), ("open" = Option<bool>, Query)),
    responses((status = 200, description = "announcements [{announcement_id, jurisdiction, announced_on, closes_on, closed, item_count, ...}], position, checkpoint (the signed checkpoint covering them, or null)"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn announcements(
    State(app): State<App>,
    options: ReadOptions,
    filters: Filters,
) -> Result<Response, ApiError> {
    filters.jurisdiction()?;
    let open = match filters.get("open") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("open {other:?} is not true or false"),
            ));
        }
    };
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut rows = views::announcements(projections);
        filters.keep("jurisdiction", "jurisdiction", &mut rows);
        if let Some(open) = open {
            rows.retain(|row| row["closed"].as_bool() == Some(!open));
        }
        json!({ "announcements": rows, "position": projections.position() })
    });
    let mut body = body;
    // Read after the models: the tree is extended before them, so this checkpoint covers every list above.
    body["checkpoint"] = super::transparency::checkpoint_field(&app);
    Ok(respond(options.format, body, Rows::Field("announcements")))
}

/// A redemption announcement list, as published: public, no token needed. Each item names the provider and
/// the amount approved, and where the item stands. As CSV, one row per item.
#[utoipa::path(get, path = "/v1/announcements/{announcement_id}", params(super::read::ReadParams, ("announcement_id" = String, Path)),
    responses((status = 200, description = "announcement_id, jurisdiction, announced_on, closes_on, closed, items [{redemption_id, provider, provider_name, approved, status, objections_open}], position, checkpoint (the signed checkpoint covering it, or null)"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn announcement(
    State(app): State<App>,
    options: ReadOptions,
    Param(announcement_id): Param<Uuid>,
) -> Result<Response, ApiError> {
    let body = snapshot(&app, &options).await?.read(|projections| {
        let lifecycle = &projections.lifecycle;
        let view = lifecycle.announcement(announcement_id).ok_or_else(|| {
            ApiError::not_found(
                "announcement_not_found",
                format!("announcement {announcement_id} does not exist"),
            )
        })?;
        let items: Vec<Value> = view
            .redemption_ids
            .iter()
            .filter_map(|id| lifecycle.redemption(*id))
            .map(|item| {
                json!({
                    "redemption_id": item.redemption_id,
                    "provider": item.provider,
                    "provider_name": lifecycle.provider(&item.provider).map(|p| p.application.name.clone()),
                    "approved": item.approved,
                    "status": item.status,
                    "objections_open": item.objections_open,
                })
            })
            .collect();
        let mut body = to_json(view);
        body["items"] = Value::Array(items);
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    let mut body = body;
    // Read after the models: the tree is extended before them, so this checkpoint covers the list.
    body["checkpoint"] = super::transparency::checkpoint_field(&app);
    Ok(respond(options.format, body, Rows::Field("items")))
}

//! Vouchers: the list, one voucher with its balances, and its history (the records behind it).

use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use super::app::App;
use super::extract::{Authenticated, Param};
use super::read::{
    Filters, ReadOptions, Rows, credit_code_of, jurisdiction_of, may_read, require_read, respond, snapshot,
};
use super::trail::{entry_json_as, visible, with_trail};
use crate::error::{ApiError, Problem};
use crate::views;
use projections::Projections;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(vouchers)).routes(routes!(voucher)).routes(routes!(voucher_history))
}

/// Vouchers with their balances, in issuance order: those the caller may read, filtered by `jurisdiction`,
/// `applicant` or `batch_id`. As CSV, one row per voucher.
#[utoipa::path(get, path = "/v1/vouchers", security(("bearer" = [])),
    params(super::read::ReadParams, ("jurisdiction" = Option<String>, Query), ("applicant" = Option<String>, Query), ("batch_id" = Option<String>, Query)),
    responses((status = 200, description = "vouchers [{voucher_id, batch_id, applicant, face_value, available, committed, ...}], position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn vouchers(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    filters: Filters,
) -> Result<Response, ApiError> {
    let jurisdiction = filters.jurisdiction()?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut rows = views::vouchers(projections);
        rows.retain(|row| {
            let (Some(row_jurisdiction), owner) = (jurisdiction_of(row), credit_code_of(row, "applicant"))
            else {
                return false;
            };
            may_read(&actor, row_jurisdiction, owner.as_ref())
                && jurisdiction.is_none_or(|j| j == row_jurisdiction)
        });
        filters.keep("applicant", "applicant", &mut rows);
        filters.keep("batch_id", "batch_id", &mut rows);
        json!({ "vouchers": rows, "position": projections.position() })
    });
    Ok(respond(options.format, body, Rows::Field("vouchers")))
}

/// A voucher with its balances.
#[utoipa::path(get, path = "/v1/vouchers/{voucher_id}", params(super::read::ReadParams, ("voucher_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "voucher_id, batch_id, applicant, face_value, available, committed, valid_until"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn voucher(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    Param(voucher_id): Param<Uuid>,
) -> Result<Response, ApiError> {
    let body = snapshot(&app, &options).await?.read(|projections| {
        let (view, _, _) = projections.balances.voucher(voucher_id).ok_or_else(|| {
            ApiError::not_found("voucher_not_found", format!("voucher {voucher_id} does not exist"))
        })?;
        require_read(&actor, view.jurisdiction, Some(&view.applicant))?;
        let mut body = views::voucher_row(projections, voucher_id).unwrap_or(Value::Null);
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}

/// A voucher's full history in log order: its issue and expiry, and every record about the contracts it
/// paid for, their redemptions, announcements, objections, disbursements, clawbacks and audit findings,
/// each with its position, stream, hash and previous hash. Readable like the voucher. As CSV, one row per
/// record.
#[utoipa::path(get, path = "/v1/vouchers/{voucher_id}/history", params(super::read::ReadParams, ("voucher_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "voucher_id, records [{position, stream, type, hash, prev_hash, business_date, recorded_at, actor, payload}], position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn voucher_history(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    Param(voucher_id): Param<Uuid>,
) -> Result<Response, ApiError> {
    let snapshot = snapshot(&app, &options).await?;
    let select = |projections: &Projections| {
        let (view, _, _) = projections.balances.voucher(voucher_id).ok_or_else(|| {
            ApiError::not_found("voucher_not_found", format!("voucher {voucher_id} does not exist"))
        })?;
        require_read(&actor, view.jurisdiction, Some(&view.applicant))?;
        Ok(projections.history.voucher(voucher_id).unwrap_or_default())
    };
    let body = with_trail(&app, &snapshot, select, |projections, trail| {
        let records: Vec<Value> = visible(&actor, projections, trail)
            .into_iter()
            .map(|(entry, access)| entry_json_as(entry, access))
            .collect();
        json!({
            "voucher_id": voucher_id,
            "records": records,
            "position": projections.position(),
        })
    })
    .await?;
    Ok(respond(options.format, body, Rows::Field("records")))
}

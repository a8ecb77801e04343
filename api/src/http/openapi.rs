//! The OpenAPI document, generated from the route annotations (utoipa), served at `/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{commands, feed, lifecycle_queries, queries, read_queries, regulation};
use crate::error::Problem;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            ),
        );
    }
}

/// Names every refusal code of the domain in the description of the problem document's `code`, from
/// `domain::Rejection::CODES` (the HTTP layer's own codes, such as `invalid_json` or `as_of_caller_limit`, are
/// listed in the README).
struct ProblemCodes;

impl Modify for ProblemCodes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        let Some(components) = openapi.components.as_mut() else { return };
        let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") else { return };
        let Some(RefOr::T(Schema::Object(code))) = problem.properties.get_mut("code") else { return };
        let codes = domain::Rejection::CODES.iter().map(|code| format!("`{code}`")).collect::<Vec<_>>();
        code.description = Some(format!(
            "The stable machine-readable code. A refused command answers one of: {}. The HTTP layer adds its \
             own (malformed requests, tokens, limits at the door, as-of limits): see the README.",
            codes.join(", ")
        ));
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "voucher-ledger", description = "Event-sourced ledger of the Guiyang / Gui'an enterprise-assistance vouchers (助企券)"),
    paths(
        super::healthz, super::readyz, super::metrics_text,
        commands::appropriate, commands::publish_batch, commands::close_batch, commands::claim,
        commands::register_applicant, commands::decide_verification, commands::suspend_applicant,
        commands::publish_policy, commands::publish_calendar_year, commands::set_clock,
        queries::voucher, queries::applicant, queries::issued, queries::batch, queries::budget,
        queries::trial_balance, queries::log_head,
        regulation::apply_as_provider, regulation::decide_provider, regulation::suspend_provider,
        regulation::file_objection, regulation::rule_on_objection,
        regulation::submit_contract, regulation::sign_contract, regulation::file_contract,
        regulation::reject_contract, regulation::cancel_contract, regulation::confirm_completion,
        regulation::rate_service, regulation::request_redemption, regulation::review_redemption,
        regulation::announce_redemptions, regulation::disburse_redemption, regulation::deny_redemption,
        regulation::draw_sample, regulation::record_finding, regulation::order_clawback,
        regulation::record_recovery, regulation::record_referral,
        lifecycle_queries::provider, lifecycle_queries::contract, lifecycle_queries::redemption,
        lifecycle_queries::announcement, lifecycle_queries::sample,
        read_queries::vouchers, read_queries::batches, read_queries::budgets, read_queries::provider_balance,
        read_queries::rankings, read_queries::voucher_history, read_queries::dossier, read_queries::redemptions,
        read_queries::announcements, read_queries::anomalies, feed::events,
    ),
    components(schemas(Problem, commands::CommandAnswer)),
    modifiers(&BearerAuth, &ProblemCodes)
)]
pub struct ApiDoc;

/// `GET /openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    #[test]
    fn the_problem_code_names_every_refusal_of_the_domain() {
        let document = serde_json::to_value(super::ApiDoc::openapi()).unwrap_or_default();
        let description = document["components"]["schemas"]["Problem"]["properties"]["code"]["description"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for code in domain::Rejection::CODES {
            assert!(description.contains(&format!("`{code}`")), "{code} is not named: {description}");
        }
        assert!(description.contains("`policy_retroactive`") && description.contains("`out_of_bounds`"));
    }
}

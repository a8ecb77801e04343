//! The OpenAPI document, generated from the route annotations (utoipa), served at `/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    admin, announcements, applicants, audits, batches, budgets, commands, contracts, enforcement, feed, log,
    objections, policy, providers, redemptions, vouchers,
};
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
        budgets::appropriate, batches::publish_batch, batches::close_batch, batches::claim,
        applicants::register_applicant, applicants::decide_verification, applicants::suspend_applicant,
        policy::publish_policy, policy::publish_calendar_year, admin::set_clock,
        vouchers::voucher, applicants::applicant, applicants::issued, batches::batch, budgets::budget,
        budgets::trial_balance, log::log_head,
        providers::apply_as_provider, providers::decide_provider, providers::suspend_provider,
        objections::file_objection, objections::rule_on_objection,
        contracts::submit_contract, contracts::sign_contract, contracts::file_contract,
        contracts::reject_contract, contracts::cancel_contract, contracts::confirm_completion,
        contracts::rate_service, redemptions::request_redemption, redemptions::review_redemption,
        announcements::announce_redemptions, redemptions::disburse_redemption, redemptions::deny_redemption,
        audits::draw_sample, audits::record_finding, enforcement::order_clawback,
        enforcement::record_recovery, enforcement::record_referral,
        providers::provider, contracts::contract, redemptions::redemption,
        announcements::announcement, audits::sample,
        vouchers::vouchers, batches::batches, budgets::budgets, providers::provider_balance,
        providers::rankings, vouchers::voucher_history, contracts::dossier, redemptions::redemptions,
        announcements::announcements, audits::anomalies, feed::events,
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

    /// Every parameter declared `in: path` names a `{segment}` of its path (generated clients build URLs
    /// from them; `openapi-spec-validator` refuses a document where one does not).
    #[test]
    fn path_parameters_are_in_their_paths() {
        let document = serde_json::to_value(super::ApiDoc::openapi()).unwrap_or_default();
        let paths = document["paths"].as_object().cloned().unwrap_or_default();
        assert!(paths.len() > 50, "{} paths", paths.len());
        for (path, item) in paths {
            for (method, operation) in item.as_object().cloned().unwrap_or_default() {
                for parameter in operation["parameters"].as_array().cloned().unwrap_or_default() {
                    if parameter["in"] == "path" {
                        let name = parameter["name"].as_str().unwrap_or_default();
                        assert!(
                            path.contains(&format!("{{{name}}}")),
                            "{method} {path}: path parameter {name}"
                        );
                    }
                }
            }
        }
    }

    /// Writes the served document to `$OPENAPI_OUT` when set, for an external validator.
    #[test]
    fn dump_document_when_asked() {
        if let Ok(out) = std::env::var("OPENAPI_OUT") {
            let document = serde_json::to_string_pretty(&super::ApiDoc::openapi()).unwrap_or_default();
            assert!(std::fs::write(out, document).is_ok());
        }
    }
}

//! The OpenAPI document, generated from the route annotations (utoipa), served at `/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::commands;
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
    components(schemas(Problem, commands::CommandAnswer)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The document once every route's description was collected (see [`super::routes`]): the problem
/// document's `code` names the domain's refusal codes.
pub fn finish(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    ProblemCodes.modify(&mut document);
    document
}

/// The whole document, as `GET /openapi.json` serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    finish(super::routes().into_openapi())
}

/// `GET /openapi.json`.
pub async fn serve(document: std::sync::Arc<utoipa::openapi::OpenApi>) -> Json<utoipa::openapi::OpenApi> {
    Json(document.as_ref().clone())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_problem_code_names_every_refusal_of_the_domain() {
        let document = serde_json::to_value(super::document()).unwrap_or_default();
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
        let document = serde_json::to_value(super::document()).unwrap_or_default();
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
            let document = serde_json::to_string_pretty(&super::document()).unwrap_or_default();
            assert!(std::fs::write(out, document).is_ok());
        }
    }
}

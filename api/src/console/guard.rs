//! Who may open a role's page, and where a redirect may go.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::console::i18n::Lang;
use crate::console::layout;
use crate::console::session::Ctx;

/// A path on this site (`/...`, not `//host` or a scheme): where a redirect may go.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.contains(['\r', '\n'])
}

/// Why a role's page is not shown: no session (go and sign in) or another role (403).
#[derive(Clone, Copy, Debug)]
pub enum Refusal {
    SignIn,
    Forbidden(Lang),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::SignIn => Redirect::to("/signin").into_response(),
            Refusal::Forbidden(lang) => layout::refusal(
                lang,
                StatusCode::FORBIDDEN,
                lang.t("forbidden.title"),
                lang.t("forbidden.detail"),
            ),
        }
    }
}

/// The signed-in actor when its role is one of `roles`.
///
/// # Errors
/// [`Refusal::SignIn`] without a session, [`Refusal::Forbidden`] for another role.
pub fn require_role(ctx: &Ctx, roles: &[domain::Role]) -> Result<domain::Actor, Refusal> {
    match ctx.actor() {
        Some(actor) if roles.contains(&actor.role) => Ok(actor.clone()),
        Some(_) => Err(Refusal::Forbidden(ctx.lang)),
        None => Err(Refusal::SignIn),
    }
}

//! Sign-in and sign-out. `GET /signin` is the form to paste a token (it works without JavaScript); the
//! script fills it from a sign-in link's fragment (`/signin#token=...`, never a query string, so the token
//! reaches no log) and submits it. `POST /signin` checks the token as the API does and starts a session;
//! `POST /signout` ends it.

use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::Fields;
use crate::console::cookies::set_cookie;
use crate::console::layout::{self, Shown, csrf_field, page};
use crate::console::session::{Ctx, SESSION_COOKIE};
use crate::console::state::Console;

/// `GET /signin`.
pub async fn form(ctx: Ctx) -> Response {
    render(&ctx, None, StatusCode::OK)
}

fn render(ctx: &Ctx, refused: Option<&Shown>, status: StatusCode) -> Response {
    let main = html! {
        (layout::outcome(ctx, refused))
        p { (ctx.t("signin.intro")) }
        form method="post" action="/signin" id="signin-form" data-testid="signin-form" {
            (csrf_field(ctx))
            label for="token" { (ctx.t("signin.token")) }
            textarea id="token" name="token" rows="4" required autocomplete="off" spellcheck="false" data-testid="signin-token" {}
            button type="submit" data-testid="signin-submit" { (ctx.t("signin.submit")) }
        }
    };
    layout::respond(status, page(ctx, ctx.t("signin.title"), main))
}

/// `POST /signin`: a valid token starts a session (cookie until the token expires) and leads to the role's
/// first page; an invalid one is shown the API's refusal (401 `invalid_token`).
pub async fn exchange(State(console): State<Console>, ctx: Ctx, Form(fields): Form<Fields>) -> Response {
    let token = fields.get("token");
    match console.app.auth.verify_with_expiry(token) {
        Ok((actor, expires)) => {
            let now = chrono::Utc::now().timestamp();
            let home = layout::home(actor.role);
            let id = console.sessions.start(actor, token.to_owned(), expires, now);
            if let Some(old) = &ctx.session_id {
                console.sessions.end(old);
            }
            let mut response = Redirect::to(home).into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &id, Some(expires - now), ctx.secure));
            response
        }
        Err(error) => {
            let shown = Shown {
                status: StatusCode::UNAUTHORIZED,
                code: "invalid_token".into(),
                title: ctx.t("problem.invalid_token").to_owned(),
                detail: error.to_string(),
            };
            render(&ctx, Some(&shown), StatusCode::UNAUTHORIZED)
        }
    }
}

/// `POST /signout`: forgets the session and deletes its cookie.
pub async fn sign_out(State(console): State<Console>, ctx: Ctx) -> Response {
    if let Some(id) = &ctx.session_id {
        console.sessions.end(id);
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0), ctx.secure));
    response
}

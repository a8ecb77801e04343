//! The bureau's pages.

use axum::Router;

use crate::console::Console;

/// This role's routes.
pub fn routes() -> Router<Console> {
    Router::new()
}

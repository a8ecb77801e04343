//! What every console handler shares.

use std::sync::Arc;

use axum::Router;

use crate::console::sessions::Sessions;
use crate::http::app::App;

/// What every console handler shares: the API's state, the API's own router (the path every action and
/// CSV download goes through), and the sessions.
#[derive(Clone)]
pub struct Console {
    pub app: App,
    /// The API's router, called in-process with the session's token.
    pub api: Router,
    pub sessions: Arc<Sessions>,
}

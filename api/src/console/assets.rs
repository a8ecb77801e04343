//! The console's assets, embedded in the binary and served from `/assets/` (nothing from elsewhere).

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The stylesheet's path.
pub const CSS_PATH: &str = "/assets/console.css";
/// The script's path.
pub const JS_PATH: &str = "/assets/console.js";

/// Every asset: (file name, media type, bytes).
pub const ASSETS: &[(&str, &str, &str)] = &[
    ("console.css", "text/css; charset=utf-8", include_str!("assets/console.css")),
    ("console.js", "text/javascript; charset=utf-8", include_str!("assets/console.js")),
];

/// `GET /assets/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, media_type, body)) => {
            let mut response = (StatusCode::OK, *body).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            response
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

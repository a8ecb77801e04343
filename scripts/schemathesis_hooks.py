"""Schemathesis hooks for scripts/schemathesis.sh: every 4xx answer must be an RFC 9457 problem document
(application/problem+json with status and code); 5xx are caught by the built-in not_a_server_error check."""
import json

import schemathesis


@schemathesis.check
def problem_json_on_4xx(ctx, response, case):
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    assert content_type.startswith("application/problem+json"), (
        f"{response.status_code} answered as {content_type!r}, not application/problem+json"
    )
    body = json.loads(response.content or b"null")
    assert isinstance(body, dict) and body.get("status") == response.status_code and body.get("code"), (
        f"{response.status_code} problem without status/code: {body!r}"
    )
    return None

"""A spectree `before` hook for routes whose inputs have refusal codes of their own.

Some inputs had refusal codes of their own long before the OpenAPI schemas existed — the
player's JSON bodies (their models in portal/queries/playback.py, shared with the browser player
and the progress fast path), the upload forms — codes that players and tests rely on
(`not_a_number`, `missing_field`, `invalid_json`, …). The route's documented models type-check the
same inputs, but a schema refusal alone would answer the generic `invalid_request`. So when a request does not
match its schema, the route's own check runs first and its refusal (a `DomainError`, answered
by the one error handler) is what the client gets; only a request that the check accepts and
the schema still refuses gets the framework's `invalid_request`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portal.queries.parse import RequestInvalid, first_problem


def refused_by_rules(check: Callable[[], object]) -> Callable[..., None]:
    """A `before` hook: on a schema refusal, raise `check()`'s refusal, else `RequestInvalid`."""

    def before(req: Any, resp: Any, req_validation_error: Any, instance: Any, model_adapter: Any = None) -> None:
        if req_validation_error is None:
            return
        check()  # raises the rule's own DomainError for anything the hand-written rules refuse
        raise RequestInvalid(first_problem(req_validation_error), resp.status_code if resp is not None else 422)

    return before

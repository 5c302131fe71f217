"""The one parser of request arguments into query models, for pages and API views alike, and
its sibling for request bodies (`parse_body`).

A value the model refuses is a `RequestInvalid` domain error: 422 `invalid_request` with a
message naming the field, answered by the one error handler (portal/error_pages.py) as JSON for
the API and as a page for people; a page with a form may catch it and show the problem beside
the field instead (portal/seller_portal/views.py `_form_query`). A body model whose refusals
have codes of their own that clients rely on (the player's: `not_a_number`, …) raises them as
pydantic custom errors (`own_refusal`): the refusal keeps that code and message.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, TypeVar, get_args

from flask import request
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError
from pydantic_core.core_schema import ErrorType

from models.errors import DomainError
from portal.queries.fields import Day

M = TypeVar("M", bound=BaseModel)
# The status of a refused argument: the same on every page and endpoint (issue 19, item 1).
INVALID_STATUS = 422


class RequestInvalid(DomainError):
    """A request that does not match its query model (or its body schema: portal/api/openapi.py).

    `status` is 422 unless an API route pins another (`validation_error_status`); `field` is the
    parameter at fault (None: the request as a whole) and `problem` the sentence without it, for
    a page's form."""

    def __init__(self, message: str, status: int = INVALID_STATUS, field: str | None = None,
                 problem: str | None = None, code: str = "invalid_request") -> None:
        super().__init__(message, kind="invalid" if status == 422 else "bad_request", code=code)
        self.status = status
        self.field = field
        self.problem = problem or message


# A body that is no JSON object (an array, a number, none): one wording for the whole API.
NOT_AN_OBJECT = "body: send a JSON object (Content-Type: application/json)"
_WHOLE_BODY_TYPES = {"model_type", "model_attributes_type", "dict_type"}


def first_problem(exc: Any) -> str:
    """`where: what` of the first pydantic error, the one-sentence message of a refusal."""
    errors = exc.errors() if hasattr(exc, "errors") else []
    if not errors:
        return "the request does not match its schema"
    first = errors[0]
    if not first.get("loc") and first.get("type") in _WHOLE_BODY_TYPES:
        return NOT_AN_OBJECT
    where = ".".join(str(p) for p in first.get("loc", ())) or "request"
    return f"{where}: {first.get('msg', 'invalid')}"


def _sentence(msg: str) -> str:
    """A pydantic message as a sentence for a form ("Value error, the end date is …" → "The end date is ….")."""
    text = msg.removeprefix("Value error, ").strip() or "This value is not valid"
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def _given(args: Any) -> dict[str, Any]:
    given = args.to_dict(flat=False) if hasattr(args, "to_dict") else dict(args)
    # A form sends an empty field for "not chosen" (e.g. all sellers): its default applies. A
    # repeated parameter counts once, by its first value.
    given = {name: value[0] if isinstance(value, list) and value else value for name, value in given.items()}
    return {name: value for name, value in given.items() if value != ""}


# pydantic's own error types; any other is a body model's own refusal code (`own_refusal`).
_PYDANTIC_ERRORS = frozenset(get_args(ErrorType))


def own_refusal(code: str, message: str) -> PydanticCustomError:
    """A body model's refusal with its own code and finished message (no template: the message may
    quote the value sent, braces and all), kept as such by `parse_body`."""
    return PydanticCustomError(code, message)


def refusal_of(exc: ValidationError, status: int = INVALID_STATUS) -> RequestInvalid:
    """The refusal of a model's ValidationError: the model's own code and message where it gave
    one (`own_refusal`), else `invalid_request` naming the field of the first problem."""
    errors = exc.errors() if hasattr(exc, "errors") else []
    first = errors[0] if errors else {}
    loc = first.get("loc", ())
    field = str(loc[0]) if loc else None
    if first.get("type") not in _PYDANTIC_ERRORS | {None}:
        return RequestInvalid(first["msg"], status, field=field, code=first["type"])
    return RequestInvalid(first_problem(exc), status, field=field, problem=_sentence(str(first.get("msg", ""))))


def parse_query(model: type[M], args: Mapping[str, Any] | None = None) -> M:
    """`args` (default: this request's query string) read by `model`; RequestInvalid (422) names
    the first problem."""
    try:
        return model.model_validate(_given(request.args if args is None else args))
    except ValidationError as exc:
        raise refusal_of(exc) from None


class Body(BaseModel):
    """A request body's model: fields beyond it are ignored; `NOT_AN_OBJECT` is the (code, message)
    of a body that is no JSON object at all (or none, or not JSON)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    NOT_AN_OBJECT: ClassVar[tuple[str, str]] = ("invalid_request", NOT_AN_OBJECT)


B = TypeVar("B", bound=Body)


def parse_body(model: type[B], body: Any, status: int = INVALID_STATUS) -> B:
    """A decoded request body (a JSON value, None when it was not JSON, or a form) read by `model`;
    RequestInvalid (422, or the `status` an API route pins) otherwise. Safe outside a request:
    the progress fast path calls it."""
    if type(body) is not dict:  # decoded JSON is a plain dict; a form is read as parse_query reads it
        if not isinstance(body, Mapping):
            code, message = model.NOT_AN_OBJECT
            raise RequestInvalid(message, status, code=code)
        body = _given(body)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise refusal_of(exc, status) from None


_DAY = TypeAdapter(Day)


def path_day(raw: str) -> date:
    """A day in a URL path (`/settlements/{video_id}/{day}`), checked as the query models' days are."""
    try:
        return _DAY.validate_python(raw[:40])
    except ValidationError as exc:
        raise RequestInvalid("day: " + first_problem(exc).partition(": ")[2], field="day") from None

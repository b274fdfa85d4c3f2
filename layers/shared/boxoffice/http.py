"""The HTTP edge shared by every function: the resolver, auth dependencies, limits and problem+json.

Every domain error is mapped to its status here, once. Handlers never build an error response.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Depends, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.logging import correlation_paths

from boxoffice import auth, errors
from boxoffice.auth import Principal
from boxoffice.config import settings
from boxoffice.logic.permissions import require_admin
from boxoffice.models.common import Problem
from boxoffice.observability import logger, metrics

PROBLEM_JSON = "application/problem+json"

STATUS: dict[type[errors.DomainError], HTTPStatus] = {
    errors.InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.MalformedBody: HTTPStatus.BAD_REQUEST,
    errors.UnsupportedMediaType: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    errors.PayloadTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    errors.RouteNotFound: HTTPStatus.NOT_FOUND,
    errors.NotAuthenticated: HTTPStatus.UNAUTHORIZED,
    errors.InvalidCredentials: HTTPStatus.UNAUTHORIZED,
    errors.WrongPassword: HTTPStatus.FORBIDDEN,
    errors.Forbidden: HTTPStatus.FORBIDDEN,
    errors.TooManyAttempts: HTTPStatus.TOO_MANY_REQUESTS,
    errors.EmailTaken: HTTPStatus.CONFLICT,
    errors.InvalidCursor: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.EventNotFound: HTTPStatus.NOT_FOUND,
    errors.CapacityBelowSold: HTTPStatus.CONFLICT,
    errors.EventStarted: HTTPStatus.CONFLICT,
    errors.SoldOut: HTTPStatus.CONFLICT,
    errors.NotEnoughTickets: HTTPStatus.CONFLICT,
    errors.BookingNotFound: HTTPStatus.NOT_FOUND,
    errors.AlreadyCancelled: HTTPStatus.CONFLICT,
    errors.IdempotencyKeyReused: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.Busy: HTTPStatus.CONFLICT,
    errors.ServiceUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}


def problem(status: HTTPStatus, code: str, title: str, detail: str, **extra: Any) -> Response[str]:
    """An RFC 9457 problem details response."""
    body = {
        "type": f"urn:boxoffice:problem:{code.lower().replace('_', '-')}",
        "title": title,
        "status": int(status),
        "detail": detail,
        "code": code,
        **extra,
    }
    headers: dict[str, str] = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    if status == HTTPStatus.UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Bearer realm="boxoffice"'
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(body), headers=headers)


def _domain_error(exc: errors.DomainError) -> Response[str]:
    extra = dict(exc.extra)
    if isinstance(exc, errors.TooManyAttempts | errors.Busy):
        extra["retry_after"] = exc.retry_after
    return problem(STATUS[type(exc)], exc.code, exc.title, exc.detail, **extra)


def _field(loc: tuple[Any, ...]) -> str:
    # ("body", "email") -> "email"; ("query", "limit") -> "limit"; the whole body -> "body".
    parts = [str(p) for p in loc[1:]] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts)


def _invalid_request(exc: RequestValidationError) -> Response[str]:
    details = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in details):
        return _domain_error(errors.MalformedBody())
    # Never echo the input back: it may be a password.
    fields = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "is invalid")} for e in details]
    return problem(
        HTTPStatus.UNPROCESSABLE_ENTITY, "VALIDATION_FAILED", "The request is not valid", "See errors.", errors=fields
    )


def _unexpected(exc: Exception) -> Response[str]:
    logger.exception("Unhandled error")
    return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "INTERNAL", "Internal error", "Something went wrong on our side.")


def _limits(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Reject oversized and non-JSON bodies before anything parses them."""
    event = app.current_event
    body = event.body
    if body:
        raw_size = len(body) * 3 // 4 if event.is_base64_encoded else len(body.encode())
        if raw_size > settings().max_body_bytes:
            raise errors.PayloadTooLarge(f"The body may be at most {settings().max_body_bytes} bytes.")
        content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise errors.UnsupportedMediaType()
        if event.is_base64_encoded:
            try:
                base64.b64decode(body, validate=True).decode()
            except (ValueError, UnicodeDecodeError) as exc:
                raise errors.MalformedBody() from exc
    return next_middleware(app)


def api() -> APIGatewayHttpResolver:
    """The resolver every function declares its one route on."""
    app = APIGatewayHttpResolver(enable_validation=True)
    app.use([_limits])
    app.exception_handler(errors.DomainError)(_domain_error)
    app.exception_handler(RequestValidationError)(_invalid_request)
    app.exception_handler(Exception)(_unexpected)
    app.not_found(lambda _: _domain_error(errors.RouteNotFound()))
    return app


def lambda_handler(app: APIGatewayHttpResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point: JSON logs with the API Gateway request id, EMF metrics flushed."""

    @metrics.log_metrics
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler


def _principal(request: Request) -> Principal:
    return auth.read_token(request.headers.get("authorization"))


def _admin(request: Request) -> Principal:
    principal = _principal(request)
    require_admin(principal)
    return principal


# Handlers take the caller as a parameter: `def route(user: CurrentPrincipal)`.
CurrentPrincipal = Annotated[Principal, Depends(_principal)]
AdminPrincipal = Annotated[Principal, Depends(_admin)]


def failures(*kinds: type[errors.DomainError], success: int = HTTPStatus.OK) -> dict[int, Any]:
    """OpenAPI `responses` of a route: its success (the return model) and each error it can answer.

    `success` must equal the route's status_code; tests/unit/test_openapi.py checks that it does.
    """
    by_status: dict[int, list[str]] = {}
    for kind in kinds:
        by_status.setdefault(int(STATUS[kind]), []).append(f"`{kind.code}`: {kind.title}")
    documented: dict[int, Any] = {int(success): {"description": HTTPStatus(success).phrase}}
    for status, lines in by_status.items():
        documented[status] = {"description": "; ".join(lines), "content": {PROBLEM_JSON: {"model": Problem}}}
    return documented


def no_content() -> Response[None]:
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)

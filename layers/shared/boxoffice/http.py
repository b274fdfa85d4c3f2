"""The HTTP edge shared by every function: the resolver, auth dependencies, limits and problem+json.

Every domain error is mapped to its status here, once. Handlers never build an error response.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Any, TypeVar, get_type_hints

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Depends, Response
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.logging import correlation_paths

from boxoffice import auth, deadline, errors, retry, snapstart  # noqa: F401 - snapstart registers the after-restore hook
from boxoffice.config import settings
from boxoffice.logic.permissions import require_admin, require_staff
from boxoffice.observability import logger, metrics
from boxoffice.vocabulary import Principal

PROBLEM_JSON = "application/problem+json"
# The media types of the documents a buyer takes away (GET .../tickets.pdf, .../qr.svg, .../calendar.ics).
PDF = "application/pdf"
SVG = "image/svg+xml"
CALENDAR = "text/calendar"
_BINARY = {"type": "string", "format": "binary"}

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
    errors.UserNotFound: HTTPStatus.NOT_FOUND,
    errors.LastAdmin: HTTPStatus.CONFLICT,
    errors.InvalidCursor: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.EventNotFound: HTTPStatus.NOT_FOUND,
    errors.CapacityBelowSold: HTTPStatus.CONFLICT,
    errors.EditTooLarge: HTTPStatus.CONFLICT,
    errors.EventStarted: HTTPStatus.CONFLICT,
    errors.SoldOut: HTTPStatus.CONFLICT,
    errors.NotEnoughTickets: HTTPStatus.CONFLICT,
    errors.OrderTooLarge: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.TicketTypeNotFound: HTTPStatus.NOT_FOUND,
    errors.TicketTypeHasSales: HTTPStatus.CONFLICT,
    errors.LastTicketType: HTTPStatus.CONFLICT,
    errors.SalesNotStarted: HTTPStatus.CONFLICT,
    errors.SalesEnded: HTTPStatus.CONFLICT,
    errors.UserLimitReached: HTTPStatus.CONFLICT,
    errors.HoldLimitReached: HTTPStatus.CONFLICT,
    errors.HoldCooldown: HTTPStatus.TOO_MANY_REQUESTS,
    errors.BookingNotFound: HTTPStatus.NOT_FOUND,
    errors.AlreadyCancelled: HTTPStatus.CONFLICT,
    errors.TicketUsed: HTTPStatus.CONFLICT,
    errors.InvalidTicketCode: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.TicketNotFound: HTTPStatus.NOT_FOUND,
    errors.AlreadyCheckedIn: HTTPStatus.CONFLICT,
    errors.TicketCancelled: HTTPStatus.CONFLICT,
    errors.WrongEvent: HTTPStatus.CONFLICT,
    errors.CheckInClosed: HTTPStatus.CONFLICT,
    errors.NotCheckedIn: HTTPStatus.CONFLICT,
    errors.TicketsAvailable: HTTPStatus.CONFLICT,
    errors.AlreadyWaiting: HTTPStatus.CONFLICT,
    errors.WaitingEntryNotFound: HTTPStatus.NOT_FOUND,
    errors.NotWaiting: HTTPStatus.CONFLICT,
    errors.IdempotencyKeyReused: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.PromoCodeNotFound: HTTPStatus.NOT_FOUND,
    errors.PromoCodeExists: HTTPStatus.CONFLICT,
    errors.InvalidPromoCode: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.PromoCodeUsedUp: HTTPStatus.CONFLICT,
    errors.TooManyWrongCodes: HTTPStatus.TOO_MANY_REQUESTS,
    errors.HoldNotFound: HTTPStatus.NOT_FOUND,
    errors.HoldExpired: HTTPStatus.CONFLICT,
    errors.HoldReleased: HTTPStatus.CONFLICT,
    errors.HoldConfirmed: HTTPStatus.CONFLICT,
    errors.Busy: HTTPStatus.CONFLICT,
    errors.ServiceUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    errors.Throttled: HTTPStatus.SERVICE_UNAVAILABLE,
    errors.Internal: HTTPStatus.INTERNAL_SERVER_ERROR,
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


def domain_error(exc: errors.DomainError) -> Response[str]:
    extra = dict(exc.extra)
    if isinstance(exc, errors.TooManyAttempts | errors.Busy | errors.Throttled):
        extra["retry_after"] = exc.retry_after
    return problem(STATUS[type(exc)], exc.code, exc.title, exc.detail, **extra)


def _field(loc: tuple[Any, ...]) -> str:
    # ("body", "email") -> "email"; ("query", "limit") -> "limit"; the whole body -> "body".
    parts = [str(p) for p in loc[1:]] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts)


def _invalid_request(exc: RequestValidationError) -> Response[str]:
    details = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in details):
        return domain_error(errors.MalformedBody())
    # Never echo the input back: it may be a password.
    fields = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "is invalid")} for e in details]
    kind = errors.InvalidInput
    return problem(STATUS[kind], kind.code, kind.title, "See errors.", errors=fields)


def _unexpected(exc: Exception) -> Response[str]:
    logger.exception("Unhandled error")
    return domain_error(errors.Internal("Something went wrong on our side."))


def _not_a_number(literal: str) -> Any:
    raise errors.MalformedBody(f"{literal} is not a JSON number.")


def _members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Python keeps the last of duplicate keys; another parser may keep the first: refuse the ambiguity.
    members: dict[str, Any] = {}
    for key, value in pairs:
        if key in members:
            raise errors.InvalidInput("is given more than once", field=key)
        members[key] = value
    return members


def parse_json(text: str) -> Any:
    """Strict JSON (RFC 8259): no NaN or Infinity, no duplicate keys; fractions as Decimal, so money
    stays exact from the first byte."""
    return json.loads(text, parse_float=Decimal, parse_constant=_not_a_number, object_pairs_hook=_members)


def _check_body(event: dict[str, Any]) -> None:
    """Reject oversized, non-JSON and non-object bodies before anything parses them.

    Runs ahead of the resolver: Powertools' request validation is always its first middleware.
    """
    body = event.get("body")
    if not body:
        return
    encoded = bool(event.get("isBase64Encoded"))
    limit = settings().max_body_bytes
    too_large = errors.PayloadTooLarge(f"The body may be at most {limit} bytes.")
    if len(body) > limit * 4 // 3 + 4:  # too big even as base64: no need to decode it
        raise too_large
    try:
        raw = base64.b64decode(body, validate=True) if encoded else body.encode()
    except ValueError as exc:
        raise errors.MalformedBody() from exc
    if len(raw) > limit:
        raise too_large
    headers = event.get("headers") or {}
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise errors.UnsupportedMediaType()
    # Powertools parses a body only under a lowercase application/json: give every JSON spelling that.
    headers["content-type"] = "application/json"
    try:
        text = raw.decode()
        # Parsed once here (at most max_body_bytes) so that hostile JSON, such as thousands of nested
        # brackets that overflow the parser's recursion, is a 400 rather than a crash further in.
        parsed = parse_json(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise errors.MalformedBody() from exc
    # Every body of this API is an object; Powertools would take a list's first element for one.
    if not isinstance(parsed, dict):
        raise errors.InvalidInput("must be a JSON object", field="body")


def api() -> APIGatewayHttpResolver:
    """The resolver every function declares its one route on."""
    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json)
    app.exception_handler(errors.DomainError)(domain_error)
    app.exception_handler(RequestValidationError)(_invalid_request)
    app.exception_handler(RequestUnsupportedContentType)(lambda _: domain_error(errors.UnsupportedMediaType()))
    app.exception_handler(Exception)(_unexpected)
    app.not_found(lambda _: _unrouted(app))
    return app


def _unrouted(app: APIGatewayHttpResolver) -> Response[Any]:
    """No route matches: 404, except for a CORS preflight.

    The $default route catches OPTIONS too (an ANY route wins over API Gateway's own preflight
    answer), so a preflight must get a 2xx here; API Gateway puts the configured CORS headers on it.
    """
    event = app.current_event
    if event.http_method == "OPTIONS" and "access-control-request-method" in event.headers:
        return no_content()
    return domain_error(errors.RouteNotFound())


def _caller(headers: Mapping[str, str]) -> Principal:
    return auth.read_token(headers.get("authorization"))


def _admin_caller(headers: Mapping[str, str]) -> Principal:
    principal = _caller(headers)
    require_admin(principal)
    return principal


def _staff_caller(headers: Mapping[str, str]) -> Principal:
    principal = _caller(headers)
    require_staff(principal)
    return principal


def _principal(request: Request) -> Principal:
    # Verified once, at the edge (lambda_handler), before the body was validated.
    principal: Principal = request.context["principal"]
    return principal


def _admin(request: Request) -> Principal:
    # A separate dependency only so that the edge knows to check the role too.
    return _principal(request)


def _staff(request: Request) -> Principal:
    # As _admin: the edge checks for staff or admin.
    return _principal(request)


Check = Callable[[Mapping[str, str]], Principal]
_CHECKS: dict[Any, Check] = {_principal: _caller, _admin: _admin_caller, _staff: _staff_caller}


def routes(app: APIGatewayHttpResolver) -> list[Route]:
    return app._static_routes + app._dynamic_routes  # Powertools has no public list of routes


def _route_checks(route: Route) -> list[Check]:
    """The caller checks that a route's auth dependencies stand for."""
    return [
        _CHECKS[meta.dependency]
        for hint in get_type_hints(route.func, include_extras=True).values()
        for meta in getattr(hint, "__metadata__", ())
        if isinstance(meta, Depends) and meta.dependency in _CHECKS
    ]


def _caller_checks(app: APIGatewayHttpResolver) -> list[Check]:
    """The auth dependencies the app's routes declare, as checks on the raw request headers.

    The token is verified here, once per request, ahead of the resolver: Powertools validates the
    body before it resolves dependencies, so a caller with no valid token would otherwise hear 422
    about the body instead of 401 (or 403 instead of 422 for users). The dependencies then read
    the verified principal from the resolver's per-request context.
    """
    return list(dict.fromkeys(check for route in routes(app) for check in _route_checks(route)))


def edge_failures(route: Route) -> tuple[type[errors.DomainError], ...]:
    """The errors a route can answer with before or around its own code, for its documentation:
    the caller checks (401, and 403 for admins and staff), the body checks (400, 413, 415), request
    validation (422), and DynamoDB failing (503), which every route uses."""
    checks = _route_checks(route)
    kinds: list[type[errors.DomainError]] = [errors.NotAuthenticated] if checks else []
    if _admin_caller in checks or _staff_caller in checks:
        kinds.append(errors.Forbidden)
    dependant = route.dependant
    if dependant.body_params:
        kinds += [errors.MalformedBody, errors.PayloadTooLarge, errors.UnsupportedMediaType]
    if dependant.body_params or dependant.query_params or dependant.header_params:
        kinds.append(errors.InvalidInput)
    return (*kinds, errors.ServiceUnavailable)


def lambda_handler(app: APIGatewayHttpResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point: caller and body checked first, then the route; JSON logs with the
    API Gateway request id; EMF metrics flushed."""
    checks = _caller_checks(app)

    @metrics.log_metrics
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
    @deadline.bounded
    @retry.alone
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        # API Gateway lower-cases header names; sam local and hand-made events may not.
        event["headers"] = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        try:
            for check in checks:
                app.context["principal"] = check(event["headers"])
            _check_body(event)
        except errors.DomainError as exc:
            app.context.clear()  # as resolve() would: nothing of this request may outlive it
            response = domain_error(exc)
            return _not_stored_unless_said(
                {
                    "statusCode": response.status_code,
                    "headers": {"Content-Type": PROBLEM_JSON, **response.headers},
                    "body": response.body,
                }
            )
        return _not_stored_unless_said(app.resolve(event, context))

    return handler


def _not_stored_unless_said(answer: dict[str, Any]) -> dict[str, Any]:
    """`Cache-Control: no-store` on an answer that does not say how it may be cached."""
    headers = answer.setdefault("headers", {})
    if not any(name.lower() == "cache-control" for name in headers):
        headers["Cache-Control"] = NOT_STORED
    return answer


def _source_ip(request: Request) -> str:
    # API Gateway always sets it; a hand-made event without one counts as one unknown address.
    context = request.resolved_event.raw_event.get("requestContext") or {}
    return str((context.get("http") or {}).get("sourceIp", ""))


# Handlers take the caller as a parameter: `def route(user: CurrentPrincipal)`.
CurrentPrincipal = Annotated[Principal, Depends(_principal)]
AdminPrincipal = Annotated[Principal, Depends(_admin)]
# The client's address as API Gateway saw it, for limits that count per address.
SourceIp = Annotated[str, Depends(_source_ip)]
StaffPrincipal = Annotated[Principal, Depends(_staff)]  # door staff or admins
Body = TypeVar("Body")

IDEMPOTENT_REPLAYED = {
    "description": "`true` when this is the booking (or hold) an earlier request with the same Idempotency-Key made.",
    "schema": {"type": "string", "enum": ["true"]},
}


# Public reads (an event, a search page): a CDN in front may serve an answer for a second, and a second more
# while it asks again, so an on-sale's refreshes reach the origin about once a second per edge location.
PUBLIC_CACHE_CONTROL = "public, max-age=1, stale-while-revalidate=1"
CACHEABLE = {
    "description": f"`{PUBLIC_CACHE_CONTROL}`: the same for everyone, so a CDN may keep it a second; the"
    " availability shown may be a second old (two while a CDN refreshes it). A booking never is: its"
    " transaction decides.",
    "schema": {"type": "string"},
}
# Every other answer (for one caller, a write, an error) says it must not be stored, so that no cache in
# front ever serves it to someone else.
NOT_STORED = "no-store"


def cacheable(body: Body) -> Response[Body]:
    """200 with `body`, which any cache may keep for a second (CACHEABLE)."""
    return Response(
        status_code=HTTPStatus.OK,
        content_type="application/json",
        body=body,
        headers={"Cache-Control": PUBLIC_CACHE_CONTROL},
    )


def created(body: Body, *, replayed: bool) -> Response[Body]:
    """201 with `body`, marked `Idempotent-Replayed: true` when an earlier request with the same key made it."""
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return Response(status_code=201, content_type="application/json", body=body, headers=headers)


def failures(
    *kinds: type[errors.DomainError],
    success: int = HTTPStatus.OK,
    headers: Mapping[str, Any] | None = None,
    content: str | None = None,
) -> dict[int, Any]:
    """OpenAPI `responses` of a route: its success (the return model, with any `headers` it sends; or
    a document of media type `content`) and each error its own code can answer with. The errors of the
    edge (edge_failures) are added when the document is built.

    Only the codes are given here, by status: scripts/openapi.py builds every problem answer (examples,
    headers, schema) from them with boxoffice.catalogue, so that no function builds them at cold start.
    `success` must equal the route's status_code; tests/unit/test_openapi.py checks that it does.
    """
    answer: dict[str, Any] = {"description": HTTPStatus(success).phrase}
    if success == HTTPStatus.NO_CONTENT:
        answer["content"] = {}  # Powertools would otherwise document the return type's JSON
    if headers:
        answer["headers"] = dict(headers)
    if content is not None:
        answer["content"] = {content: {"schema": _BINARY}}
    codes: dict[int, dict[str, Any]] = {}
    for kind in kinds:
        codes.setdefault(int(STATUS[kind]), {})[kind.code] = {}
    problems = {
        status: {"description": HTTPStatus(status).phrase, "content": {PROBLEM_JSON: {"examples": examples}}}
        for status, examples in codes.items()
    }
    return {int(success): answer, **problems}


RouteFunction = TypeVar("RouteFunction", bound=Callable[..., Any])


def document(route: RouteFunction) -> RouteFunction:
    """A route that answers a document (a PDF, an SVG, a calendar), not JSON. Powertools validates and
    serializes a declared return type as JSON (bytes as UTF-8 text, which a PDF is not), so its return
    annotation is hidden from Powertools; the OpenAPI document takes the media type from `failures`."""
    route.__annotations__.pop("return", None)
    return route


def no_content() -> Response[None]:
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)

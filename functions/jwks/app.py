"""GET /.well-known/jwks.json: the public keys that verify ticket codes, for scanners that work offline."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from boxoffice import ticket_codes
from boxoffice.http import api, failures, lambda_handler
from boxoffice.models.tickets import JsonWebKeySet

app = api()

# Public and the same for everyone: caches and scanners keep it for five minutes, as long as an instance
# keeps the ring it read; rotated keys appear before the codes they sign reach anyone's door.
CACHE_CONTROL = f"public, max-age={ticket_codes.SECRET_CACHE_SECONDS}"


@app.get("/.well-known/jwks.json", operation_id="getTicketKeys", tags=["tickets"], responses=failures())
def jwks() -> Response[JsonWebKeySet]:
    keys = JsonWebKeySet.model_validate({"keys": ticket_codes.public_keys()})
    return Response(
        status_code=HTTPStatus.OK,
        content_type="application/json",
        body=keys,
        headers={"Cache-Control": CACHE_CONTROL},
    )


handler = lambda_handler(app)

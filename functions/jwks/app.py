"""GET /.well-known/jwks.json: the public keys that verify ticket codes, for scanners that work offline.

It serves the published public keys as stored (TicketPublicKeys) and never reads the private ring. A
rotation publishes a new key at once and signs with it only PUBLISH_LEAD_SECONDS (10 min) later: an
instance here keeps what it read up to 5 min and a scanner keeps this answer up to 5 min more, so every
scanner that syncs at least that often knows a key before any code signed with it reaches its door.
"""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from boxoffice import ticket_codes
from boxoffice.http import api, failures, lambda_handler
from boxoffice.models.tickets import JsonWebKeySet

app = api()

# Public and the same for everyone: caches and scanners keep it as long as an instance keeps what it read.
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

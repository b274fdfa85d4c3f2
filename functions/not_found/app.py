"""The HTTP API's $default route: any unknown method or path gets a 404 problem+json."""

from boxoffice.http import api, lambda_handler

# No routes: every request falls through to the resolver's not-found handler.
app = api()
handler = lambda_handler(app)

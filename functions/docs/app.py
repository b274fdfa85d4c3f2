"""GET /docs (Swagger UI, no CDN) and GET /openapi.json: the deployed API documents itself."""

from aws_lambda_powertools.event_handler import Response

from boxoffice import docs
from boxoffice.http import api, lambda_handler

app = api()


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return docs.openapi_json()


@app.get("/docs", include_in_schema=False)
def swagger_ui() -> Response[str]:
    return docs.swagger_ui()


handler = lambda_handler(app)

"""GET /docs (Swagger UI, no CDN) and GET /openapi.json: the deployed API documents itself."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from boxoffice import docs
from boxoffice.http import api, lambda_handler

app = api()


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return docs.openapi_json()


@app.get("/docs", include_in_schema=False)
def swagger_ui(format: Annotated[str | None, Query()] = None) -> Response[str]:  # noqa: A002 - the API's name
    return docs.swagger_ui(format)


handler = lambda_handler(app)

"""GET /door/ and its files: the door app, static, served by the API so it shares the API's origin."""

from pathlib import Path
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from boxoffice import door
from boxoffice.http import api, lambda_handler

app = api()
STATIC = Path(__file__).with_name("static")
IfNoneMatch = Annotated[str | None, Header(alias="if-none-match")]


@app.get("/door", include_in_schema=False)
def without_slash() -> Response[str]:
    return door.redirect()


@app.get("/door/", include_in_schema=False)
def page(if_none_match: IfNoneMatch = None) -> Response[str]:
    return door.static_file(STATIC, None, if_none_match)


@app.get("/door/<file>", include_in_schema=False)
def static_file(file: str, if_none_match: IfNoneMatch = None) -> Response[str]:
    return door.static_file(STATIC, file, if_none_match)


handler = lambda_handler(app)

"""GET /users?email=: an admin finds one account by its email."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from boxoffice.errors import Forbidden, InvalidInput, NotAuthenticated, UserNotFound
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler
from boxoffice.logic import roles
from boxoffice.models.users import User

app = api()


@app.get(
    "/users",
    operation_id="findUser",
    tags=["users"],
    responses=failures(NotAuthenticated, Forbidden, UserNotFound, InvalidInput),
)
def find_user(
    principal: AdminPrincipal,
    email: Annotated[str, Query(max_length=254, description="The exact address, in any case.")],
) -> User:
    return roles.find_user(principal, email)


handler = lambda_handler(app)

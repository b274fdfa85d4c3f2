"""GET /users/me: the caller's profile."""

from boxoffice.errors import NotAuthenticated
from boxoffice.http import CurrentPrincipal, api, failures, lambda_handler
from boxoffice.logic import accounts
from boxoffice.models.users import User

app = api()


@app.get("/users/me", operation_id="getMe", tags=["users"], responses=failures(NotAuthenticated))
def get_me(principal: CurrentPrincipal) -> User:
    return accounts.me(principal)


handler = lambda_handler(app)

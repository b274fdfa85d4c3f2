"""PATCH /users/me: change the caller's name or password (a new password revokes older tokens)."""

from boxoffice.errors import NotAuthenticated, TooManyAttempts, WrongPassword
from boxoffice.http import CurrentPrincipal, SourceIp, api, failures, lambda_handler
from boxoffice.logic import accounts
from boxoffice.models.users import UpdateMeRequest, User

app = api()


@app.patch(
    "/users/me",
    operation_id="updateMe",
    tags=["users"],
    responses=failures(NotAuthenticated, WrongPassword, TooManyAttempts),
)
def update_me(principal: CurrentPrincipal, body: UpdateMeRequest, source_ip: SourceIp) -> User:
    return accounts.update_me(principal, body, source_ip)


handler = lambda_handler(app)

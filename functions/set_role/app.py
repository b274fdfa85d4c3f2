"""PUT /users/{user_id}/role: an admin makes an account a user, door staff or an admin; old tokens die."""

from boxoffice.errors import Busy, Forbidden, InvalidInput, LastAdmin, NotAuthenticated, UserNotFound
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler
from boxoffice.logic import roles
from boxoffice.models.users import RoleChange, User

app = api()


@app.put(
    "/users/<user_id>/role",
    operation_id="setUserRole",
    tags=["users"],
    responses=failures(NotAuthenticated, Forbidden, UserNotFound, LastAdmin, Busy, InvalidInput),
)
def set_role(user_id: str, body: RoleChange, principal: AdminPrincipal) -> User:
    return roles.set_role(principal, user_id, body)


handler = lambda_handler(app)

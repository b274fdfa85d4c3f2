"""POST /auth/register: create an account (always a plain user)."""

from boxoffice.errors import EmailTaken, InvalidInput
from boxoffice.http import api, failures, lambda_handler
from boxoffice.logic import accounts
from boxoffice.models.users import RegisterRequest, User

app = api()


@app.post(
    "/auth/register",
    operation_id="register",
    status_code=201,
    tags=["auth"],
    responses=failures(EmailTaken, InvalidInput, success=201),
)
def register(body: RegisterRequest) -> User:
    return accounts.register(body)


handler = lambda_handler(app)

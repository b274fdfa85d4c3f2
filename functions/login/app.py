"""POST /auth/login: exchange email and password for a bearer token."""

from boxoffice.errors import InvalidCredentials, TooManyAttempts
from boxoffice.http import SourceIp, api, failures, lambda_handler
from boxoffice.logic import accounts
from boxoffice.models.users import LoginRequest, Token

app = api()


@app.post("/auth/login", operation_id="login", tags=["auth"], responses=failures(InvalidCredentials, TooManyAttempts))
def login(body: LoginRequest, source_ip: SourceIp) -> Token:
    return accounts.login(body, source_ip)


handler = lambda_handler(app)

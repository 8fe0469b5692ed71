"""Cognito through the confidential app client: tokens are only issued here.

The Cognito username is the lower-cased e-mail; the user id is the `sub`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from chalicelib import aws
from chalicelib.config import client_secret, settings
from chalicelib.errors import Conflict, InvalidInput, NotAuthenticated


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


class BadCredentials(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__("Incorrect email or password")


def _secret_hash(username: str) -> str:
    s = settings()
    digest = hmac.new(
        client_secret().encode(),
        (username + s.user_pool_client_id).encode(),
        hashlib.sha256,
    ).digest()
    return base64.b64encode(digest).decode()


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def sign_up(email: str, password: str, name: str) -> str:
    """Create the identity; returns the user id (`sub`)."""
    s = settings()
    idp = aws.client("cognito-idp")
    try:
        out = idp.sign_up(
            ClientId=s.user_pool_client_id,
            SecretHash=_secret_hash(email),
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": name}],
        )
    except idp.exceptions.UsernameExistsException:
        raise Conflict("an account with this email already exists") from None
    except idp.exceptions.InvalidPasswordException as exc:
        message = exc.response.get("Error", {}).get("Message", "does not meet the policy")
        raise InvalidInput("password", message) from None
    if s.auto_confirm_signup:
        idp.admin_confirm_sign_up(UserPoolId=s.user_pool_id, Username=email)
    return str(out["UserSub"])


def delete_identity(email: str) -> None:
    """Remove the identity (an undone sign-up, or a deleted account)."""
    aws.client("cognito-idp").admin_delete_user(UserPoolId=settings().user_pool_id, Username=email)


def login(email: str, password: str) -> Tokens:
    s = settings()
    idp = aws.client("cognito-idp")
    try:
        out = idp.initiate_auth(
            ClientId=s.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={
                "USERNAME": email,
                "PASSWORD": password,
                "SECRET_HASH": _secret_hash(email),
            },
        )
    except Exception as exc:
        if _code(exc) in (
            "NotAuthorizedException",
            "UserNotFoundException",
            "UserNotConfirmedException",
            "PasswordResetRequiredException",
        ):
            raise BadCredentials() from None
        raise
    result = out.get("AuthenticationResult")
    if not result:  # a challenge we do not support (e.g. a forced password change)
        raise BadCredentials()
    return Tokens(result["AccessToken"], result["RefreshToken"], int(result["ExpiresIn"]))


def refresh(username: str, refresh_token: str) -> Tokens:
    s = settings()
    idp = aws.client("cognito-idp")
    try:
        out = idp.initiate_auth(
            ClientId=s.user_pool_client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token, "SECRET_HASH": _secret_hash(username)},
        )
    except Exception as exc:
        if _code(exc) in ("NotAuthorizedException", "UserNotFoundException"):
            raise NotAuthenticated("the refresh token is not valid") from None
        raise
    result = out["AuthenticationResult"]
    return Tokens(
        result["AccessToken"], result.get("RefreshToken", refresh_token), int(result["ExpiresIn"])
    )


def set_password(email: str, password: str, field: str = "new_password") -> None:
    """Give the identity a new permanent password (the pool's policy applies)."""
    s = settings()
    idp = aws.client("cognito-idp")
    try:
        idp.admin_set_user_password(
            UserPoolId=s.user_pool_id, Username=email, Password=password, Permanent=True
        )
    except idp.exceptions.InvalidPasswordException as exc:
        message = exc.response.get("Error", {}).get("Message", "does not meet the policy")
        raise InvalidInput(field, message) from None


def user_id_of(email: str) -> str | None:
    """The identity's user id (`sub`), or None when the pool has no such user."""
    idp = aws.client("cognito-idp")
    try:
        out = idp.admin_get_user(UserPoolId=settings().user_pool_id, Username=email)
    except idp.exceptions.UserNotFoundException:
        return None
    attributes = {a["Name"]: a["Value"] for a in out.get("UserAttributes", [])}
    return attributes.get("sub")


def confirm(email: str) -> None:
    """The address is the owner's (they had the code we sent to it): the account is
    confirmed and its e-mail verified."""
    s = settings()
    idp = aws.client("cognito-idp")
    idp.admin_confirm_sign_up(UserPoolId=s.user_pool_id, Username=email)
    idp.admin_update_user_attributes(
        UserPoolId=s.user_pool_id,
        Username=email,
        UserAttributes=[{"Name": "email_verified", "Value": "true"}],
    )


def is_confirmed(email: str) -> bool | None:
    """Whether the account is confirmed; None when there is no such account."""
    idp = aws.client("cognito-idp")
    try:
        out = idp.admin_get_user(UserPoolId=settings().user_pool_id, Username=email)
    except idp.exceptions.UserNotFoundException:
        return None
    return str(out.get("UserStatus")) != "UNCONFIRMED"

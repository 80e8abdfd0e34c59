"""``Authorization: Bearer <token>`` for agents and for people's personal tokens."""

from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import Agent, User
from accounts.selectors import principal_for_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Agent | User, str] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        token = token.strip()
        if not token or " " in token or len(token) > 200:
            raise exceptions.AuthenticationFailed("malformed bearer token")
        principal = principal_for_token(token)
        if principal is None:
            raise exceptions.AuthenticationFailed("invalid or revoked token")
        return principal, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="airlock"'

"""Identities: people (e-mail is who they are), agents, and API tokens.

Tokens are random, shown once, and stored only as their SHA-256. A 256-bit random
token needs no slow hash: nobody can brute-force it from the digest, and looking it
up by digest reveals nothing through timing.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

ADMINS_GROUP = "airlock-admins"
AUDITORS_GROUP = "airlock-auditors"
ROLE_GROUPS = frozenset({ADMINS_GROUP, AUDITORS_GROUP})

AGENT_NAME_RE = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("a person needs an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. The e-mail address (lower-cased) is the identity everywhere:
    in ``on_behalf_of``, in reviews, in audit events."""

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    is_agent = False

    def __str__(self) -> str:
        return self.email

    def save(self, *args: object, **kwargs: object) -> None:
        # One spelling everywhere: on_behalf_of and audit actors compare e-mails.
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def group_names(self) -> set[str]:
        cached = getattr(self, "_group_names", None)
        if cached is None:
            cached = set(self.groups.values_list("name", flat=True))
            self._group_names = cached
        return cached


class Agent(models.Model):
    """An automated caller. Every agent has a human owner, who answers for it and
    therefore may never approve what it asks for."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(AGENT_NAME_RE, "lower-case letters, digits, . _ -")],
    )
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="agents")
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    is_agent = True
    is_authenticated = True  # what DRF's permission classes ask of request.user
    is_anonymous = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiToken(models.Model):
    """A person's personal API token: the same rights as their console session."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user.email}:{self.token_prefix}"

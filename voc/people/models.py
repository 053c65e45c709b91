import hashlib
import secrets
from typing import Any, Self
from zoneinfo import available_timezones

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from voc.people.roles import Role


def validate_time_zone(value: str) -> None:
    """An IANA time zone name this machine knows (Europe/Berlin, America/New_York)."""
    if value and value not in available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as Europe/Berlin.")


class Department(models.Model):
    """A part of the company that owns contact reasons and the issues behind them."""

    name = models.CharField(max_length=100, unique=True)
    head = models.ForeignKey(
        "people.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_departments",
        help_text="The manager who owns this department's issues.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """Reps who work together under a team lead."""

    name = models.CharField(max_length=100, unique=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="teams"
    )
    lead = models.ForeignKey(
        "people.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.REP, db_index=True)
    title = models.CharField(max_length=100, blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    reports_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        help_text="Next step up an escalation chain.",
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="An IANA name such as Europe/Berlin; empty: the reporting time zone. "
        "Digests go out at local hours in it.",
    )

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The Django admin is for admins: staff status follows the role.
        self.is_staff = self.is_superuser or self.role == Role.ADMIN
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "is_staff"}
        super().save(*args, **kwargs)


class HashedKeyToken(models.Model):
    """A revocable API key of which only a SHA-256 hash is stored; the key is shown once.

    Personal API tokens and the contacts app's ingest tokens are both this, with their own
    fields and PREFIX."""

    PREFIX = ""
    HINT_CHARS = 6  # random characters after the prefix kept to tell keys apart

    key_hash = models.CharField(max_length=64, unique=True)
    key_hint = models.CharField(
        max_length=16, help_text="The first characters, to tell keys apart."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def new_key(cls) -> tuple[str, dict[str, str]]:
        """A fresh key, and the fields that store it (hash and hint, never the key)."""
        key = cls.PREFIX + secrets.token_urlsafe(32)
        return key, {
            "key_hash": cls.hash_key(key),
            "key_hint": key[: len(cls.PREFIX) + cls.HINT_CHARS],
        }

    @classmethod
    def get_active(cls, key: str, *, select_related: tuple[str, ...] = ()) -> Self | None:
        """The active token with this key, or None (unknown and revoked keys alike)."""
        if not key.startswith(cls.PREFIX):
            return None
        tokens = cls._default_manager.all()
        if select_related:
            tokens = tokens.select_related(*select_related)
        return tokens.filter(key_hash=cls.hash_key(key), revoked_at__isnull=True).first()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        """Revoking again changes nothing."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def touch(self) -> None:
        """Record use at most once a minute, so busy tokens don't write on every request."""
        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() >= 60:
            type(self)._default_manager.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now


class ApiToken(HashedKeyToken):
    """A personal API token: it acts as its user, with their role and scope."""

    PREFIX = "voc_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)

    class Meta(HashedKeyToken.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.name} ({self.key_hint}…)"

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.db import transaction

from voc.core.mail import email_queue
from voc.people.models import ApiToken, User

MAX_ACTIVE_TOKENS = 20


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its key, which is never stored nor shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the script that uses it."})
    active = ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
    if active.count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            {"name": f"You have {MAX_ACTIVE_TOKENS} active tokens; revoke one first."}
        )
    key, stored = ApiToken.new_key()
    token = ApiToken.objects.create(user=user, name=name[:100], **stored)
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    token.revoke()
    return token


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, with the mail rendered here and sent by a worker."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        # Only plain values travel to the worker; the site name is ours, not the domain.
        context = {key: value for key, value in context.items() if key != "user"} | {
            "username": context["user"].get_username(),
            "site_name": settings.SITE_NAME,
        }
        email_queue(template="password-reset", context=context, to=[to_email])

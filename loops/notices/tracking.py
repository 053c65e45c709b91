"""Delivery status of fix notices from the email service (anymail's tracking signal).

anymail turns each ESP's tracking webhook into one ``tracking`` signal; the digests listen to
it too. VoC mounts the tracking webhooks at ``/loops/webhooks/tracking/<esp>/``, authenticated
like the inbound ones: anymail's ``WEBHOOK_SECRET`` as HTTP basic auth is required (without it
every request is refused, where anymail alone would only warn), plus the provider's signature
where anymail checks one (Mailgun, Postal, MailerSend, Resend).

A "delivered", "bounced" or "complained" event lands on the recipient whose send-once row it
names (anymail echoes the ``voc_send_once`` metadata back; else the ESP's message id). A
"delivered" for an email send-once had marked unknown (the window) settles it as sent.
"""

import logging
from typing import Any

from anymail.exceptions import AnymailError, AnymailWebhookValidationFailure
from anymail.utils import get_anymail_setting, get_request_basic_auth
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.mailersend import MailerSendTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.mailjet import MailjetTrackingWebhookView
from anymail.webhooks.postal import PostalTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

from loops.models import NoticeRecipient
from loops.notices.services import SEND_ONCE_PURPOSE
from voc.core.audit import SystemActor, audit_record
from voc.core.models import SendOnce
from voc.core.sendonce import ESP_METADATA_KEY

logger = logging.getLogger(__name__)
TRACKING = SystemActor("email-tracking")
Status = NoticeRecipient.Status
# anymail's event types → a recipient's status.
EVENTS = {
    "delivered": Status.DELIVERED,
    "bounced": Status.BOUNCED,
    "rejected": Status.BOUNCED,
    "complained": Status.COMPLAINED,
}
# A later, worse word wins over an earlier one; "delivered" never undoes a bounce.
RANK: dict[str, int] = {Status.DELIVERED: 1, Status.BOUNCED: 2, Status.COMPLAINED: 3}


def _send_once_for(event: Any) -> SendOnce | None:
    metadata = getattr(event, "metadata", None) or {}
    tagged = str(metadata.get(ESP_METADATA_KEY, ""))
    emails = SendOnce.objects.filter(purpose=SEND_ONCE_PURPOSE)
    if tagged.startswith(f"{SEND_ONCE_PURPOSE}:"):
        return emails.filter(key=tagged.split(":", 1)[1]).first()
    if tagged:
        return None  # another purpose's email (a digest, a survey)
    message_id = str(getattr(event, "message_id", "") or "")
    if not message_id:
        return None
    return emails.filter(esp_message_id=message_id).first()


def notice_tracking_event(*, event: Any) -> NoticeRecipient | None:
    """Record one tracking event on its recipient; None when it is not about a fix notice."""
    status = EVENTS.get(str(getattr(event, "event_type", "")))
    if status is None:
        return None
    email = _send_once_for(event)
    if email is None:
        return None
    detail = str(getattr(event, "description", "") or getattr(event, "mta_response", "") or "")
    with transaction.atomic():
        recipient = NoticeRecipient.objects.select_for_update().filter(send_once=email).first()
        if recipient is None:
            return None
        if RANK.get(recipient.status, 0) >= RANK[status]:
            return recipient  # a repeat, or news older than what we know
        recipient.status = status
        recipient.detail = detail[:300]
        recipient.esp_message_id = str(getattr(event, "message_id", "") or "")[:200]
        recipient.updated_at = timezone.now()
        recipient.save(update_fields=["status", "detail", "esp_message_id", "updated_at"])
        if email.status == SendOnce.Status.UNKNOWN:
            # The service has it: the window's doubt is settled without a person.
            SendOnce.objects.filter(pk=email.pk, status=SendOnce.Status.UNKNOWN).update(
                status=SendOnce.Status.SENT, sent_at=timezone.now(), error=""
            )
            audit_record(
                by=TRACKING,
                action="send_once.resolve",
                target=email,
                changes={"status": [SendOnce.Status.UNKNOWN, SendOnce.Status.SENT]},
                why=f"The email service reported it {event.event_type}.",
                customer_id=email.customer_id,
            )
    return recipient


def notice_tracking_received(sender: object, event: Any, esp_name: str, **_: Any) -> None:
    notice_tracking_event(event=event)


# --- The webhook -------------------------------------------------------------------------------

WEBHOOK_VIEWS = {
    "amazon_ses": AmazonSESTrackingWebhookView,
    "mailersend": MailerSendTrackingWebhookView,
    "mailgun": MailgunTrackingWebhookView,
    "mailjet": MailjetTrackingWebhookView,
    "postal": PostalTrackingWebhookView,
    "postmark": PostmarkTrackingWebhookView,
    "sendgrid": SendGridTrackingWebhookView,
    "sparkpost": SparkPostTrackingWebhookView,
}


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"detail": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="VoC email tracking"'
    return response


def _basic_auth_ok(request: HttpRequest) -> bool:
    secrets = get_anymail_setting("webhook_secret", default=[])
    if isinstance(secrets, str):
        secrets = [secrets] if secrets else []
    given = get_request_basic_auth(request)
    if not given:
        return False
    matches = [constant_time_compare(given, secret) for secret in secrets if secret]
    return any(matches)


@csrf_exempt
def tracking_webhook_view(request: HttpRequest, esp: str) -> HttpResponse:
    """POST /loops/webhooks/tracking/<esp>/: delivery events from an ESP. 200 once recorded;
    401 without the webhook secret; 403 for a bad signature; 404 for a provider not set up."""
    view_class = WEBHOOK_VIEWS.get(esp)
    if view_class is None:
        return _error(404, "VoC takes no tracking events from this provider.")
    if request.method == "HEAD":
        return JsonResponse({})
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST", "HEAD"])
    if not _basic_auth_ok(request):
        return _error(401, "Give the webhook secret (HTTP basic auth) configured for VoC.")
    try:
        view = view_class()
    except (AnymailError, ImproperlyConfigured):
        return _error(404, "Tracking from this provider is not set up.")
    try:
        view.setup(request, esp=esp)
        return view.dispatch(request, esp=esp)
    except AnymailWebhookValidationFailure:
        return _error(403, "The request's signature or origin could not be verified.")
    except (ValueError, KeyError, TypeError) as error:
        logger.warning("tracking webhook %s: unreadable request (%s)", esp, error)
        return _error(400, "The request could not be read.")

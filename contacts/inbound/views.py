"""Inbound-email webhooks (one per ESP, through django-anymail) and the admins' overview page.

The webhooks are authenticated by the ESP's scheme, never by a VoC login: anymail's
``WEBHOOK_SECRET`` basic auth on every provider (required here: without it every request is
refused), plus the provider's own signature where it has one (Mailgun's signing key, Postal's,
MailerSend's) and, for Amazon SES, an allow-list of SNS topic ARNs (``VOC_SES_TOPIC_ARNS``).
Each request is one transaction: a refused or malformed request stores nothing.
"""

import json
import logging
import time

from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailError,
    AnymailWebhookValidationFailure,
)
from anymail.utils import get_anymail_setting, get_request_basic_auth
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.base import AnymailBasicAuthMixin
from anymail.webhooks.mailersend import MailerSendInboundWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.mailjet import MailjetInboundWebhookView
from anymail.webhooks.postal import PostalInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from anymail.webhooks.sparkpost import SparkPostInboundWebhookView
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig, SuspiciousOperation
from django.db import transaction
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

from contacts.inbound import selectors
from contacts.inbound.access import VIEW_INBOUND
from contacts.inbound.parsing import InboundRejected
from contacts.models import InboundEmail
from voc.core.capabilities import capability_required

logger = logging.getLogger(__name__)


class SesInboundView(AmazonSESInboundWebhookView):
    """Amazon SES through SNS, with the email inside the notification (an "SNS" receipt-rule
    action). Only topics in VOC_SES_TOPIC_ARNS are accepted. VoC makes no call to AWS from a
    request: it neither fetches from S3 nor confirms subscriptions (see docs/inbound-email.md),
    so boto3 is not needed. SNS message signatures are not verified (anymail does not; it needs
    the network)."""

    def __init__(self, **kwargs):
        self.auto_confirm_enabled = False
        self.session_params, self.client_params = {}, {}
        self.kms_key_id = None
        self.chunk_size = 0
        AnymailBasicAuthMixin.__init__(self, **kwargs)

    def validate_request(self, request):
        # anymail's own check (run too) compares the message type and id headers with the body.
        topic = self._parse_sns_message(request).get("TopicArn")
        if not isinstance(topic, str) or topic not in settings.VOC_SES_TOPIC_ARNS:
            raise AnymailWebhookValidationFailure("SNS topic is not in VOC_SES_TOPIC_ARNS")
        if request.META.get("HTTP_X_AMZ_SNS_TOPIC_ARN") != topic:
            raise AnymailWebhookValidationFailure("SNS topic header doesn't match the body")

    def auto_confirm_sns_subscription(self, sns_message):
        logger.warning(
            "Amazon SNS asks to confirm the subscription of topic %s to VoC's inbound webhook. "
            "VoC does not fetch the confirmation URL itself; confirm it in the SNS console, or "
            "with: aws sns confirm-subscription --topic-arn %s --token %s",
            sns_message.get("TopicArn"),
            sns_message.get("TopicArn"),
            sns_message.get("Token"),
        )

    def fetch_s3_chunks(self, bucket_name, object_key):
        raise AnymailConfigurationError(
            "VoC reads Amazon SES mail from the SNS notification only; use an SNS receipt-rule "
            "action, not S3."
        )


class MailgunInboundView(MailgunInboundWebhookView):
    """Mailgun, whose signature (HMAC of timestamp and token) anymail checks, plus what its
    docs ask of a receiver and anymail leaves out: the timestamp is within
    VOC_INBOUND_SIGNATURE_MAX_AGE seconds of now, and no token is taken twice, so a captured
    signature can't be sent again with other content.

    Seen tokens are kept in the cache for twice that age. Without the cache (Redis down) the
    token check is skipped with a warning and the timestamp window alone bounds a replay; mail
    keeps coming in rather than bouncing for the length of the outage."""

    def validate_request(self, request):
        # Runs after anymail's signature check (validators run in MRO order, subclass last).
        if request.content_type == "application/json":
            block = json.loads(request.body.decode("utf-8")).get("signature") or {}
        else:
            block = request.POST
        timestamp, token = block.get("timestamp"), block.get("token")
        max_age = settings.VOC_INBOUND_SIGNATURE_MAX_AGE
        try:
            age = time.time() - int(timestamp)
        except (TypeError, ValueError):
            raise AnymailWebhookValidationFailure("Mailgun timestamp is not a number") from None
        if abs(age) > max_age:
            raise AnymailWebhookValidationFailure("Mailgun timestamp is too old or in the future")
        if not isinstance(token, str) or not token:
            raise AnymailWebhookValidationFailure("Mailgun token is missing")
        try:
            fresh = cache.add(f"inbound:mailgun-token:{token[:200]}", 1, timeout=2 * max_age)
        except Exception:  # the cache is down: the timestamp window still holds
            logger.warning("inbound webhook mailgun: the cache is unreachable, token not checked")
            return
        if not fresh:
            raise AnymailWebhookValidationFailure("Mailgun token was used before")


# URL slug -> anymail's inbound view. Brevo, Mailtrap and Resend are left out: their inbound
# webhooks download the message from the provider's API during the request.
WEBHOOK_VIEWS = {
    "amazon_ses": SesInboundView,
    "mailersend": MailerSendInboundWebhookView,
    "mailgun": MailgunInboundView,
    "mailgun_mime": MailgunInboundView,  # Mailgun posts raw MIME to a URL with "mime"
    "mailjet": MailjetInboundWebhookView,
    "postal": PostalInboundWebhookView,
    "postmark": PostmarkInboundWebhookView,
    "sendgrid": SendGridInboundWebhookView,
    "sparkpost": SparkPostInboundWebhookView,
}
JSON_BODIES = {"amazon_ses", "mailersend", "mailjet", "postal", "postmark", "sparkpost"}


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"detail": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="VoC inbound email"'
    return response


def _webhook_secrets() -> list[str]:
    secrets = get_anymail_setting("webhook_secret", default=[])
    if isinstance(secrets, str):
        secrets = [secrets] if secrets else []
    return [secret for secret in secrets if secret]


def _basic_auth_ok(request) -> bool:
    given = get_request_basic_auth(request)
    if not given:
        return False
    # Every secret is compared (no early exit), in constant time each.
    matches = [constant_time_compare(given, secret) for secret in _webhook_secrets()]
    return any(matches)


@csrf_exempt
def inbound_webhook_view(request, esp: str):
    """POST /webhooks/inbound/<esp>/: one email from an ESP. 200 once stored (or already
    stored); 401 without the webhook secret; 403 for a bad signature or an unknown SNS topic;
    404 for a provider VoC does not take or that is not set up; 400/413 for input refused."""
    view_class = WEBHOOK_VIEWS.get(esp)
    if view_class is None:
        return _error(404, "VoC takes no inbound email from this provider.")
    if request.method == "HEAD":  # some ESPs check the URL when it is configured
        return JsonResponse({})
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST", "HEAD"])
    if not _basic_auth_ok(request):
        return _error(401, "Give the webhook secret (HTTP basic auth) configured for VoC.")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "The Content-Length header is not a number.")
    limit = settings.VOC_INBOUND_MAX_REQUEST_BYTES
    if length > limit:
        return _error(413, f"The request is larger than {limit} bytes.")
    try:
        view = view_class()
    except (AnymailError, ImproperlyConfigured):  # e.g. Mailgun without its signing key
        return _error(404, "Inbound email from this provider is not set up.")
    try:
        if esp in JSON_BODIES:
            # Read the body here, under VoC's own limit rather than Django's 2.5 MB for forms:
            # a JSON email carries its attachments.
            request._body = request.read(limit + 1)
            if len(request._body) > limit:
                return _error(413, f"The request is larger than {limit} bytes.")
        view.setup(request, esp=esp)
        with transaction.atomic():
            return view.dispatch(request, esp=esp)
    except InboundRejected as rejected:
        return _error(rejected.status, rejected.message)
    except AnymailWebhookValidationFailure:
        return _error(403, "The request's signature or origin could not be verified.")
    except RequestDataTooBig:
        return _error(413, "The request is too large.")
    except (
        AnymailError,
        ImproperlyConfigured,  # anymail's "this payload belongs to another webhook"
        SuspiciousOperation,
        json.JSONDecodeError,
        KeyError,
        TypeError,
        ValueError,
        UnicodeError,
        LookupError,
        AttributeError,
        IndexError,
    ) as error:
        # The provider's payload is malformed. The error's text may quote the payload: only
        # its kind is logged.
        logger.warning(
            "inbound webhook %s refused a malformed request (%s)", esp, type(error).__name__
        )
        return _error(400, "The request is not an inbound email this provider sends.")


@capability_required(VIEW_INBOUND)
def inbound_ops_view(request):
    kind = request.GET.get("kind") or None
    status = request.GET.get("status") or None
    if kind not in InboundEmail.Kind.values:
        kind = None
    if status not in InboundEmail.Status.values:
        status = None
    context = {
        "counts": selectors.inbound_counts(),
        "emails": selectors.inbound_latest(kind=kind, status=status),
        "kinds": InboundEmail.Kind.choices,
        "statuses": InboundEmail.Status.choices,
        "selected_kind": kind,
        "selected_status": status,
    }
    return render(request, "contacts/ops_inbound.html", context)

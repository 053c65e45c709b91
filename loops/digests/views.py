"""The bcc program's pages: my digests (admins: everyone's), subscribe and change, preview the
last period, leave, enrol people, the digests sent to me, and the signed unsubscribe link."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from contacts.models import Channel, Message
from loops.access import ADMINISTER_DIGESTS, ENROL_DIGESTS, SUBSCRIBE_DIGESTS, enrollable_users
from loops.digests.forms import EnrolForm, SubscriptionForm
from loops.digests.links import UNSUBSCRIBE
from loops.digests.schedule import last_period
from loops.digests.selectors import digest_content, digest_problems, digest_threads, filters_of
from loops.digests.services import (
    cadence_of,
    digest_render,
    digest_resend,
    filters_from,
    subscription_change,
    subscription_create,
    subscription_unsubscribe,
    subscriptions_enrol,
)
from loops.models import Digest, DigestSubscription
from voc.core.audit import SystemActor
from voc.core.capabilities import capability_required, has_capability
from voc.core.links import LinkError, link_check

PAGE_SIZE = 50
# A digest opened in the browser is the email as sent: its inline styles apply (the email
# needs them), nothing runs (no script at all, sandboxed), nothing loads from elsewhere.
EMAIL_PAGE_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; sandbox allow-popups "
    "allow-popups-to-escape-sandbox"
)


def _email_page(html: str) -> HttpResponse:
    response = HttpResponse(html)
    response["Content-Security-Policy"] = EMAIL_PAGE_POLICY
    return response


def _own_subscription(request, subscription_id: int) -> DigestSubscription:
    """The viewer's subscription; an admin may open anyone's (404 for others)."""
    subscription = get_object_or_404(
        DigestSubscription.objects.select_related("user"), pk=subscription_id
    )
    if subscription.user_id != request.user.pk and not has_capability(
        request.user, ADMINISTER_DIGESTS
    ):
        raise Http404
    return subscription


@capability_required(SUBSCRIBE_DIGESTS)
def digest_list_view(request):
    everyone = has_capability(request.user, ADMINISTER_DIGESTS) and request.GET.get("all") == "1"
    subscriptions = DigestSubscription.objects.select_related("user", "enrolled_by")
    if not everyone:
        subscriptions = subscriptions.filter(user=request.user)
    sent = (
        Digest.objects.filter(user=request.user)
        .exclude(status=Digest.Status.EMPTY)
        .select_related("send_once")
        .order_by("-period_end", "-id")[:PAGE_SIZE]
    )
    context = {
        "subscriptions": subscriptions.order_by("user__username", "name", "id"),
        "everyone": everyone,
        "sent": sent,
        "may_enrol": has_capability(request.user, ENROL_DIGESTS),
        "may_administer": has_capability(request.user, ADMINISTER_DIGESTS),
    }
    return render(request, "loops/digests/list.html", context)


def _prefill(request) -> dict[str, object]:
    """ "Subscribe to this" from a search (?keywords=) or a reason (?reason=)."""
    initial: dict[str, object] = {"frequency": "daily", "hour": 8, "include_outgoing": True}
    keywords = request.GET.get("keywords", "")[:300]
    if keywords:
        initial |= {"keywords": keywords, "name": f"Messages about “{keywords}”"[:100]}
    reason = request.GET.get("reason", "")
    if reason.isdigit():
        initial["reasons"] = [int(reason)]
        initial.setdefault("name", "Digest of a reason")
    # The rest of a search's filters, as far as a subscription has them.
    team = request.GET.get("team", "")
    if team.isdigit():
        initial["teams"] = [int(team)]
    channel = request.GET.get("channel", "")
    if channel in Channel.values:
        initial["channels"] = [channel]
    if request.GET.get("direction") == Message.Direction.INCOMING:
        initial["include_outgoing"] = False
    return initial


@capability_required(SUBSCRIBE_DIGESTS)
def digest_subscribe_view(request):
    form = SubscriptionForm(request.POST or None, initial=_prefill(request))
    if request.method == "POST" and form.is_valid():
        subscription = subscription_create(
            user=request.user, data=form.data_for_service(), by=request.user
        )
        messages.success(request, f"Subscribed to “{subscription.name}”.")
        return redirect("loops:digest-list")
    status = 400 if request.method == "POST" else 200
    return render(request, "loops/digests/form.html", {"form": form}, status=status)


@capability_required(SUBSCRIBE_DIGESTS)
def digest_change_view(request, subscription_id: int):
    subscription = _own_subscription(request, subscription_id)
    form = SubscriptionForm(
        request.POST or None, initial=SubscriptionForm.initial_for(subscription)
    )
    if request.method == "POST" and form.is_valid():
        subscription_change(
            subscription=subscription, data=form.data_for_service(), by=request.user
        )
        messages.success(request, "Subscription saved.")
        return redirect("loops:digest-list")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "subscription": subscription}
    return render(request, "loops/digests/form.html", context, status=status)


@capability_required(SUBSCRIBE_DIGESTS)
def digest_preview_view(request, subscription_id: int):
    """The digest the subscriber would have had for the last period (instant: the last
    hour), rendered as the email is."""
    subscription = _own_subscription(request, subscription_id)
    now = timezone.now()
    if subscription.frequency == DigestSubscription.Frequency.INSTANT:
        start, end, covers = now - timedelta(hours=1), now, ["the last hour"]
    else:
        period = last_period(cadence_of(subscription), now=now)
        start, end, covers = period.start, period.end, [period.key]
    content = digest_content(
        filters_of(subscription), viewer=subscription.user, start=start, end=end
    )
    _, html, _ = digest_render(
        subscription=subscription, content=content, covers=covers, preview=True
    )
    return _email_page(html)


@capability_required(SUBSCRIBE_DIGESTS)
def digest_preview_new_view(request):
    """Preview before subscribing: the form's filters, the last day."""
    if not request.GET:
        return redirect("loops:digest-subscribe")
    form = SubscriptionForm(request.GET, initial=_prefill(request))
    if not form.is_valid():
        return render(request, "loops/digests/form.html", {"form": form}, status=400)
    data = form.data_for_service()
    subscription = DigestSubscription(user=request.user, name=data.name)
    now = timezone.now()
    content = digest_content(
        filters_from(data), viewer=request.user, start=now - timedelta(days=1), end=now
    )
    _, html, _ = digest_render(
        subscription=subscription, content=content, covers=["the last day"], preview=True
    )
    return _email_page(html)


@require_POST
@capability_required(SUBSCRIBE_DIGESTS)
def digest_leave_view(request, subscription_id: int):
    subscription = _own_subscription(request, subscription_id)
    subscription_unsubscribe(subscription=subscription, by=request.user)
    messages.success(request, f"“{subscription.name}” stopped. Change it to start it again.")
    return redirect("loops:digest-list")


@capability_required(SUBSCRIBE_DIGESTS)
def digest_sent_view(request, digest_id: int):
    """A digest as it was sent (its owner, or an admin)."""
    digest = get_object_or_404(Digest, pk=digest_id)
    if digest.user_id != request.user.pk and not has_capability(request.user, ADMINISTER_DIGESTS):
        raise Http404
    if not digest.html:
        raise Http404
    return _email_page(digest.html)


@capability_required(ENROL_DIGESTS)
def digest_enrol_view(request):
    people = enrollable_users(request.user).order_by("last_name", "first_name", "username")
    form = EnrolForm(request.POST or None, people=people, initial=_prefill(request))
    if request.method == "POST" and form.is_valid():
        enrolled = subscriptions_enrol(
            users=list(form.cleaned_data["people"]), data=form.data_for_service(), by=request.user
        )
        messages.success(request, f"Enrolled {len(enrolled)} people; each can change or leave it.")
        return redirect("loops:digest-list")
    status = 400 if request.method == "POST" else 200
    return render(request, "loops/digests/enrol.html", {"form": form}, status=status)


@csrf_exempt  # RFC 8058: the mail client posts "List-Unsubscribe=One-Click" without a form
def digest_unsubscribe_view(request, token: str):
    """No sign-in: the signed token names the subscription. GET asks, POST stops it."""
    try:
        grant = link_check(purpose=UNSUBSCRIBE, token=token, model=DigestSubscription)
    except LinkError as error:
        status = 410 if error.__class__.__name__ == "LinkExpired" else 400
        return render(
            request, "loops/digests/unsubscribe.html", {"error": str(error)}, status=status
        )
    subscription = DigestSubscription.objects.filter(pk=grant.target_id).first()
    if subscription is None:
        return render(
            request,
            "loops/digests/unsubscribe.html",
            {"error": "This digest no longer exists."},
            status=404,
        )
    done = False
    if request.method == "POST":
        subscription_unsubscribe(subscription=subscription, by=SystemActor("unsubscribe-link"))
        done = True
    context = {"subscription": subscription, "done": done or not subscription.active}
    return render(request, "loops/digests/unsubscribe.html", context)


@capability_required(ADMINISTER_DIGESTS)
def digest_problems_view(request):
    problems = digest_problems()[:PAGE_SIZE]
    return render(request, "loops/digests/problems.html", {"problems": problems})


@require_POST
@capability_required(ADMINISTER_DIGESTS)
def digest_resend_view(request, digest_id: int):
    digest = get_object_or_404(Digest.objects.select_related("user"), pk=digest_id)
    try:
        digest_resend(digest=digest, by=request.user)
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Digest #{digest.pk} queued again for {digest.user}.")
    return redirect("loops:digest-problems")


THREADS_PAGE = 100


def _period_param(request, name: str):
    value = parse_datetime(request.GET.get(name, "").replace(" ", "+"))
    if value is None or value.tzinfo is None:
        raise Http404
    return value


def _messages_param(request) -> tuple[int, int] | None:
    """An instant digest's message-id range, (after, through], when the link has one."""
    after, through = request.GET.get("after"), request.GET.get("through")
    if after is None and through is None:
        return None
    try:
        messages_in = (int(after or ""), int(through or ""))
    except ValueError:
        raise Http404 from None
    if not 0 <= messages_in[0] < messages_in[1]:
        raise Http404
    return messages_in


@capability_required(SUBSCRIBE_DIGESTS)
def digest_threads_view(request, subscription_id: int):
    """Every conversation of a digest's period, the ones past its 50 included, within the
    viewer's own scope (an admin opening someone's sees what the admin may see)."""
    subscription = _own_subscription(request, subscription_id)
    start, end = _period_param(request, "start"), _period_param(request, "end")
    if not start < end <= start + timedelta(days=40):
        raise Http404
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    rows, total = digest_threads(
        filters_of(subscription),
        viewer=request.user,
        start=start,
        end=end,
        offset=(page - 1) * THREADS_PAGE,
        limit=THREADS_PAGE,
        messages_in=_messages_param(request),
    )
    context = {
        "subscription": subscription,
        "rows": rows,
        "total": total,
        "start": start,
        "end": end,
        "page": page,
        "first": (page - 1) * THREADS_PAGE + 1,
        "next_page": page + 1 if page * THREADS_PAGE < total else None,
        "previous_page": page - 1 if page > 1 else None,
    }
    return render(request, "loops/digests/threads.html", context)

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from voc.core import selectors
from voc.core.capabilities import Capability, capability_required
from voc.core.links import LinkError
from voc.core.models import OutboxMessage


@never_cache
def healthz_view(request: HttpRequest) -> JsonResponse:
    """For load balancers and docker-compose: is the process up and the database reachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


@capability_required(Capability.VIEW_JOB_RUNS)
def jobs_view(request: HttpRequest) -> HttpResponse:
    job = request.GET.get("job") or None
    context = {
        "jobs": selectors.job_status_list(),
        "runs": selectors.job_run_list_recent(job=job, limit=100),
        "selected_job": job,
        "heartbeat": selectors.last_heartbeat(),
    }
    return render(request, "core/jobs.html", context)


def _require_outbox() -> None:
    if not settings.OUTBOX_ENABLED:
        raise Http404


@capability_required(Capability.VIEW_OUTBOX)
def outbox_view(request: HttpRequest) -> HttpResponse:
    _require_outbox()
    page = Paginator(OutboxMessage.objects.all(), 50).get_page(request.GET.get("page"))
    return render(request, "core/outbox.html", {"page": page})


@capability_required(Capability.VIEW_OUTBOX)
def outbox_message_view(request: HttpRequest, message_id: int) -> HttpResponse:
    _require_outbox()
    message = get_object_or_404(OutboxMessage, id=message_id)
    response = render(request, "core/outbox_message.html", {"message": message})
    # The HTML part is shown in a srcdoc iframe, which inherits this policy: no remote images,
    # styles or scripts, so a tracking pixel in a message does not load when an admin reads it.
    response["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'"
    )
    return response


def link_error_response(request: HttpRequest, error: LinkError) -> HttpResponse:
    """The page for a signed link that may not be followed (voc.core.links): expired or used
    (410), or not valid (400). Says no more than that, to someone who need not be signed in."""
    return render(
        request, "core/link_error.html", {"message": error.message}, status=error.status_code
    )

from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from contacts.budget.links import OPT_OUT_LINK_PURPOSES
from contacts.budget.services import OPT_OUT_LINK, budget_opt_out
from contacts.models import Customer
from voc.core.links import LinkError, link_check, link_use
from voc.core.views import link_error_response


# No login: the signed token is the authority. A GET only asks (mail scanners follow links);
# the POST opts out. It is exempt from CSRF because the token in the URL already proves the
# request comes from the email (and mail clients' one-click unsubscribe posts without a form).
@csrf_exempt
@require_http_methods(["GET", "POST"])
def budget_opt_out_view(request, purpose: str, token: str):
    link_purpose = OPT_OUT_LINK_PURPOSES.get(purpose)
    if link_purpose is None:
        raise Http404
    context = {"purpose": purpose, "purpose_label": _LABELS[purpose]}
    try:
        if request.method == "GET":
            link_check(purpose=link_purpose, token=token, model=Customer)
            return render(request, "contacts/budget_opt_out.html", context)
        with transaction.atomic():
            grant = link_use(purpose=link_purpose, token=token, model=Customer)
            customer = Customer.objects.filter(id=grant.target_id).first()
            if customer is None or customer.erased_at:
                raise Http404
            budget_opt_out(customer=customer, purpose=purpose, by=OPT_OUT_LINK)
    except LinkError as error:
        return link_error_response(request, error)
    return render(request, "contacts/budget_opt_out.html", {**context, "done": True})


_LABELS = {
    "survey": "surveys about your contacts with us",
    "callback": "calls back about your contacts",
    "fix_notice": "emails telling you a problem you reported was fixed",
    "outreach": "calls and emails asking how we are doing",
}

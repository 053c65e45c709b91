from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from voc.core.capabilities import Capability, capability_required
from voc.people import selectors, services
from voc.people.forms import ApiTokenCreateForm
from voc.people.services import QueuedPasswordResetForm
from voc.people.throttling import client_ip, password_reset_allowed


@capability_required(Capability.VIEW_PEOPLE)
def directory_view(request):
    context = {
        "departments": selectors.department_list_visible(viewer=request.user),
        "teams": selectors.team_list_visible(viewer=request.user),
        "people": selectors.user_list_visible(viewer=request.user),
    }
    return render(request, "people/directory.html", context)


@capability_required(Capability.MANAGE_OWN_TOKENS)
def tokens_view(request):
    form = ApiTokenCreateForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_key = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form = ApiTokenCreateForm()
            messages.success(
                request, f"Token “{token.name}” created. Copy it now: it is shown only once."
            )
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": selectors.api_token_list(user=request.user),
    }
    return render(request, "people/tokens.html", context)


@require_POST
@capability_required(Capability.MANAGE_OWN_TOKENS)
def token_revoke_view(request, token_id: int):
    token = selectors.api_token_get_for_user(user=request.user, token_id=token_id)
    if token is None:
        raise Http404
    services.api_token_revoke(token=token)
    messages.info(request, f"Token “{token.name}” revoked.")
    return redirect("people:tokens")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, limited per address asked for and per client (throttling.py).
    Past a limit the page says so (429) and sends nothing; it says the same for addresses
    with and without an account."""

    form_class = QueuedPasswordResetForm

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        if not password_reset_allowed(email=email, ip=client_ip(self.request)):
            form.add_error(
                None,
                "Too many password resets were asked for this address or from your network. "
                "Try again in an hour, or ask an admin.",
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)

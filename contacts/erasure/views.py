"""The admin's erasure page: a confirmation that shows what will go (as counts), then the
erasure itself on a POST that carries an explicit confirmation."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from contacts import selectors
from contacts.access import ERASE_CUSTOMERS
from contacts.erasure.services import customer_erase, erasure_preview
from contacts.models import CustomerErasure
from voc.core.capabilities import capability_required
from voc.people.access import request_viewer


class CustomerEraseForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand that this cannot be undone",
        error_messages={"required": "Tick the box to confirm the erasure."},
    )
    note = forms.CharField(
        max_length=200,
        required=False,
        label="Note (optional)",
        help_text="A ticket or request reference. Never personal data: it is kept.",
    )


@capability_required(ERASE_CUSTOMERS)
def customer_erase_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    viewer = request_viewer(request)
    customer = selectors.customer_get_visible(viewer=viewer, customer_id=customer_id)
    if customer is None:
        raise Http404("No such customer.")
    if customer.erased_at is not None:
        if request.method == "POST":
            messages.error(request, "This customer was already erased.")
            return redirect("contacts:customer-detail", customer.id)
        erasure = CustomerErasure.objects.filter(customer_id_erased=customer.id).first()
        context: dict[str, Any] = {"customer": customer, "erasure": erasure}
        return render(request, "contacts/customer_erase.html", context)
    status = 200
    if request.method == "POST":
        form = CustomerEraseForm(request.POST)
        if form.is_valid():
            try:
                customer_erase(customer=customer, by=viewer, note=form.cleaned_data["note"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "The customer was erased.")
                return redirect("contacts:customer-detail", customer.id)
        status = 400
    else:
        form = CustomerEraseForm()
    context = {"customer": customer, "form": form, "preview": erasure_preview(customer=customer)}
    return render(request, "contacts/customer_erase.html", context, status=status)

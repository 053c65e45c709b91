import functools

from django.contrib.auth.views import redirect_to_login

from voc.people.access import require_capability


def capability_required(capability: str):
    """Sign-in required (anonymous users go to the login page), then the capability (403)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            require_capability(request.user, capability)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate

"""Who is asking (the client's address) and how often they may ask for a password reset.

Sign-in failures are counted by django-axes (settings: AXES_*); it does not cover password
resets, which send mail to whoever owns the address, so those are limited here: per address
asked for and per client address, in fixed one-hour windows.
"""

from django.conf import settings
from django.utils.crypto import salted_hmac

from voc.core.throttling import count_hit

RESET_WINDOW = 60 * 60


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or with VOC_TRUSTED_PROXIES=N reverse proxies in
    front, the address the outermost of them saw (the N-th from the right in
    X-Forwarded-For). Entries further left are written by the client and never trusted."""
    proxies = settings.VOC_TRUSTED_PROXIES
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _key(kind: str, value: str) -> str:
    # Keyed hashes: the cache never holds an email address in clear.
    return f"password-reset:{kind}:" + salted_hmac("password-reset", value).hexdigest()[:32]


def password_reset_allowed(*, email: str, ip: str) -> bool:
    """Count this request against its address and its client; False once either is past
    its limit in the current hour. Unknown addresses count the same, so the answer says
    nothing about which addresses have accounts."""
    by_address = count_hit(_key("email", email.strip().lower()), window=RESET_WINDOW)
    by_client = count_hit(_key("ip", ip), window=RESET_WINDOW)
    return (
        by_address <= settings.VOC_PASSWORD_RESETS_PER_ADDRESS
        and by_client <= settings.VOC_PASSWORD_RESETS_PER_IP
    )

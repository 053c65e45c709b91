"""A Redis of the test's own (``redis-server`` on a spare port, never the shared one) is
stopped in the middle of a bulk ingest and started again: every request is answered as saved,
no row is lost, and the sentiment sweep scores what the lost tasks would have."""

import json
import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache.backends.redis import RedisCache
from django.urls import reverse
from rest_framework.test import APIClient

from contacts.ingest.tokens import ingest_token_create
from contacts.models import Contact
from contacts.tasks import sentiment_sweep

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS, ROWS = 12, 10  # Redis is up for the first 4 requests, down for 4, up again for 4


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    def __init__(self, port: int):
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def own_redis(settings, monkeypatch):
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server binary")
    from rest_framework.throttling import SimpleRateThrottle

    from voc.celery import app

    redis = OwnRedis(spare_port())
    redis.start()
    url = f"redis://127.0.0.1:{redis.port}/0"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    monkeypatch.setattr(SimpleRateThrottle, "cache", RedisCache(url, {}))
    monkeypatch.setattr(app.conf, "broker_url", url)
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield redis
    finally:
        redis.stop()
        app._pool = None
        app.amqp._producer_pool = None


def test_redis_stopped_during_bulk_ingest_loses_and_fails_nothing(own_redis, cast):
    _, key = ingest_token_create(name="Genesys cloud", source="genesys", by=cast.admin)
    client = APIClient(HTTP_AUTHORIZATION=f"Ingest {key}")
    answers = []
    for number in range(REQUESTS):
        if number == 4:
            own_redis.stop()
        if number == 8:
            own_redis.start()  # empty again: the tasks queued before the stop are gone
        rows = [
            {
                "external_id": f"call-{number}-{n}",
                "channel": "phone",
                "occurred_at": "2026-11-02T09:30:00Z",
                "text": "Thanks, that solved it." if n % 2 else "This is the worst service.",
            }
            for n in range(ROWS)
        ]
        response = client.post(
            reverse("api-contact-bulk"), json.dumps(rows), content_type="application/json"
        )
        answers.append((response.status_code, response.json().get("created")))

    assert answers == [(200, ROWS)] * REQUESTS  # 0 errors for saved rows
    assert Contact.objects.count() == REQUESTS * ROWS  # 0 lost
    assert Contact.objects.filter(sentiment__isnull=True).count() == REQUESTS * ROWS

    # No worker runs here, and the tasks queued while Redis was up died with it: the sweep
    # (every five minutes under beat) scores them all within two runs.
    sentiment_sweep()
    sentiment_sweep()
    assert not Contact.objects.filter(sentiment__isnull=True).exists()

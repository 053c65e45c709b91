"""voc/settings.py read in fresh processes with controlled environments."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json
from django.conf import settings
import django
django.setup()
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": settings.DATABASES["default"]["ENGINE"],
    "OPTIONS": settings.DATABASES["default"].get("OPTIONS", {}),
    "BROKER": settings.CELERY_BROKER_URL,
    "CACHE": settings.CACHES["default"]["BACKEND"],
    "EMAIL_BACKEND": settings.EMAIL_BACKEND,
    "OUTBOX_ENABLED": settings.OUTBOX_ENABLED,
    "SSL_REDIRECT": getattr(settings, "SECURE_SSL_REDIRECT", False),
    "HSTS": getattr(settings, "SECURE_HSTS_SECONDS", 0),
    "ACKS_LATE": settings.CELERY_TASK_ACKS_LATE,
    "REJECT_ON_LOST": settings.CELERY_TASK_REJECT_ON_WORKER_LOST,
    "PREFETCH": settings.CELERY_WORKER_PREFETCH_MULTIPLIER,
}))
"""


def run_settings(tmp_path, **env) -> subprocess.CompletedProcess:
    base = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "SYSTEMROOT"} or key.startswith("PYTHON")
    }
    base |= {"DJANGO_SETTINGS_MODULE": "voc.settings", "VOC_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def read_settings(tmp_path, **env) -> dict:
    result = run_settings(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_defaults_need_no_services(tmp_path):
    settings = read_settings(tmp_path)
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in settings["OPTIONS"]["init_command"]
    assert settings["BROKER"] == "filesystem://localhost//"
    assert (tmp_path / "broker" / "queue").is_dir()
    assert settings["EMAIL_BACKEND"] == "voc.core.mail.OutboxBackend"
    assert settings["OUTBOX_ENABLED"] is True
    assert settings["DEBUG"] is True


def test_celery_is_configured_for_at_least_once_delivery(tmp_path):
    settings = read_settings(tmp_path)
    assert settings["ACKS_LATE"] and settings["REJECT_ON_LOST"]
    assert settings["PREFETCH"] == 1


def test_redis_url_serves_broker_and_cache_and_an_explicit_broker_wins(tmp_path):
    settings = read_settings(tmp_path, REDIS_URL="redis://cache.internal:6379/0")
    assert settings["BROKER"] == "redis://cache.internal:6379/0"
    assert settings["CACHE"].endswith("RedisCache")
    settings = read_settings(
        tmp_path, REDIS_URL="redis://cache.internal:6379/0", CELERY_BROKER_URL="amqp://mq//"
    )
    assert settings["BROKER"] == "amqp://mq//"


def test_database_url_selects_postgresql(tmp_path):
    settings = read_settings(tmp_path, DATABASE_URL="postgres://voc:secret@db:5432/voc")
    assert settings["ENGINE"] == "django.db.backends.postgresql"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_its_required_settings(tmp_path, missing):
    env = {"VOC_ENV": "production", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "voc.example.com"}
    del env[missing]
    result = run_settings(tmp_path, **env)
    assert result.returncode != 0
    assert f"{missing} is required" in result.stderr


def test_production_mode_is_secure_and_has_no_outbox(tmp_path):
    settings = read_settings(
        tmp_path, VOC_ENV="production", SECRET_KEY="x" * 60, ALLOWED_HOSTS="voc.example.com"
    )
    assert settings["DEBUG"] is False
    assert settings["SSL_REDIRECT"] is True
    assert settings["HSTS"] >= 31536000
    assert settings["OUTBOX_ENABLED"] is False
    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"


def test_production_sends_through_the_named_anymail_esp(tmp_path):
    settings = read_settings(
        tmp_path,
        VOC_ENV="production",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="voc.example.com",
        VOC_EMAIL_ESP="mailgun",
        ANYMAIL_MAILGUN_API_KEY="key",
    )
    assert settings["EMAIL_BACKEND"] == "anymail.backends.mailgun.EmailBackend"


def test_secrets_can_come_from_files(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("s" * 60 + "\n")
    result = run_settings(
        tmp_path, VOC_ENV="production", SECRET_KEY_FILE=str(secret), ALLOWED_HOSTS="voc.example.com"
    )
    assert result.returncode == 0, result.stderr


def test_deploy_checks_pass_in_production_mode(tmp_path):
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}} | {
        "VOC_ENV": "production",
        "SECRET_KEY": "k9$Lr2!vQz8#Wm4@Xp7&Ts1*Nb6^Hd3%Jf5(Gc0)Ya-Ue_Io+Pl=Ok~Ij" * 2,
        "ALLOWED_HOSTS": "voc.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "VOC_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# Requests answered by VoC in production mode (the real settings module, a fresh process).
# Static files are stored plainly here: the manifest storage needs collectstatic first.
HEADERS_PROBE = """
import json
from unittest import mock
import django
from django.conf import settings
django.setup()
settings.STORAGES = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
from django.test import Client
from voc.core import api

def boom(*args, **kwargs):
    raise RuntimeError("boom")

answers = {}
client = Client(raise_request_exception=False, HTTP_HOST="voc.example.com")
for name, path in [("page", "/accounts/login/"), ("api_404", "/api/v1/nothing%0a/"),
                   ("api_404_outside_v1", "/api/v2/x/"), ("page_404", "/nothing/")]:
    response = client.get(path, secure=True)
    answers[name] = {"status": response.status_code, "type": response["Content-Type"],
                     "headers": dict(response.headers), "body": response.content.decode()[:300]}
with mock.patch("voc.people.authentication.ApiTokenAuthentication.authenticate", boom):
    response = client.get("/api/v1/departments/", secure=True)
answers["api_500"] = {"status": response.status_code, "type": response["Content-Type"],
                      "body": response.content.decode()[:300]}
print(json.dumps(answers))
"""


def test_production_answers_with_the_security_headers_and_json_api_errors(tmp_path):
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}} | {
        "DJANGO_SETTINGS_MODULE": "voc.settings",
        "VOC_ENV": "production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "voc.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'headers.sqlite3'}",
        "VOC_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", HEADERS_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])

    page = answers["page"]
    assert page["status"] == 200, page
    headers = page["headers"]
    directives = [part.strip() for part in headers["Content-Security-Policy"].split(";")]
    csp = {name: value for name, _, value in (d.partition(" ") for d in directives if d)}
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no nonce
    assert csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert "unsafe" not in headers["Content-Security-Policy"]
    policy = headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"

    for name in ("api_404", "api_404_outside_v1"):
        assert answers[name]["status"] == 404, answers[name]
        assert answers[name]["type"] == "application/json"
        assert json.loads(answers[name]["body"]) == {"detail": "Not found."}
        assert "Content-Security-Policy" in answers[name]["headers"]
    assert answers["page_404"]["status"] == 404
    assert answers["page_404"]["type"].startswith("text/html")
    assert answers["api_500"] == {
        "status": 500,
        "type": "application/json",
        "body": '{"detail": "Server error."}',
    }


REPLICA_PROBE = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({"DATABASES": settings.DATABASES, "ROUTERS": settings.DATABASE_ROUTERS},
                 default=str))
"""


def _databases(tmp_path, **env) -> dict:
    base = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    base |= {"DJANGO_SETTINGS_MODULE": "voc.settings", "VOC_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", REPLICA_PROBE],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_replica_alias_without_its_url(tmp_path):
    settings = _databases(tmp_path, DATABASE_URL="postgres://voc@db.internal:5432/voc")
    assert list(settings["DATABASES"]) == ["default"]
    assert settings["ROUTERS"] == ["voc.core.db_routers.ReplicaRouter"]  # a no-op then


def test_a_replica_url_adds_a_read_only_replica_alias(tmp_path):
    settings = _databases(
        tmp_path,
        DATABASE_URL="postgres://voc@db.internal:5432/voc",
        DATABASE_REPLICA_URL="postgres://voc_ro@standby.internal:5433/voc",
        DB_CONN_MAX_AGE="30",
    )
    default, replica = settings["DATABASES"]["default"], settings["DATABASES"]["replica"]
    assert list(settings["DATABASES"]) == ["default", "replica"]
    assert (replica["HOST"], replica["PORT"], replica["USER"]) == (
        "standby.internal",
        5433,
        "voc_ro",
    )
    assert replica["NAME"] == default["NAME"] == "voc"
    assert replica["CONN_MAX_AGE"] == default["CONN_MAX_AGE"] == 30
    assert replica["OPTIONS"] == {"options": "-c default_transaction_read_only=on"}
    assert replica["TEST"]["MIRROR"] == "default"  # tests read the primary's test database

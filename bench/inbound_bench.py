"""Inbound email: webhook requests answered per second, and time from webhook to contact.

    .venv/bin/python bench/inbound_bench.py --requests 2000 --latency 50

Starts VoC under gunicorn on 127.0.0.1 (PostgreSQL, a dedicated database, dropped and
recreated: VOC_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/voc_inbound_bench;
Redis as the broker: VOC_BENCH_BROKER_URL, default redis://127.0.0.1:6379/13, flushed) and posts
realistic emails (a 1.5 KB reply with an HTML alternative and quoted history, ~40 headers) to
the webhooks as Mailgun (raw MIME, signed) and Postmark (JSON) do, from 4 client threads.

1. **answered**: requests/s with no worker running (the webhook only stores and queues), and
   the latency of each answer.
2. **drain**: a real Celery worker starts and threads everything queued in (1).
3. **webhook → contact**: with the worker idle, one email at a time; the time from sending the
   request to its contact (and message) being visible in the database.

Every request goes to loopback only; the loops are bounded by --requests and --latency, and the
script stops the server and the worker it started. Results go to stdout as Markdown.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_inbound_bench"
)
from common import BENCH_DATABASE_URL, ROOT, Timer, setup_django

BROKER_URL = os.environ.get("VOC_BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
CLIENTS = 4
WORKERS = 2
SUPPORT = "help@northwind.example"  # a demo support mailbox (seed_demo)
QUOTE = "\n".join(
    f"> {line}"
    for line in (
        "Hello Ann,",
        "thank you for your message. We looked at your account and the second charge of",
        "49.90 on 2 November is a duplicate. It will be refunded within 3-5 working days.",
        "Kind regards, the Northwind billing team",
    )
)


def body(number: int) -> str:
    lines = [
        "Hello,",
        "",
        f"this is about ticket {number}: the refund you promised has still not arrived and this",
        "month's bill shows the same double charge again. I have attached the statement. My",
        "internet was also down on Tuesday evening for three hours, which is the second time",
        "this month; nobody called me back although I was told someone would. Please fix the",
        "bill and tell me when the money comes back, I would rather not cancel the contract.",
        "",
        "Best regards,",
        "Ann Customer",
        "",
        f"On Mon, 16 Nov 2026 at 10:02, Northwind Billing <{SUPPORT}> wrote:",
        QUOTE,
    ]
    return "\n".join(lines)


def raw_email(number: int) -> bytes:
    from tests.contacts.inbound_payloads import mime

    headers = {f"X-Relay-{n}": f"mx{n}.mail.example (10.0.0.{n}) with ESMTPS" for n in range(30)}
    headers["DKIM-Signature"] = "v=1; a=rsa-sha256; d=mail.example; s=s1; b=" + "A" * 340
    text = body(number)
    html = (
        "<html><body>" + "".join(f"<p>{line}</p>" for line in text.split("\n")) + "</body></html>"
    )
    return mime(
        message_id=f"<bench-{number}@mail.example>",
        sender=f"Ann Customer {number % 500} <ann{number % 500}@mail.example>",
        to=SUPPORT,
        subject=f"Re: Double charge again (case {number})",
        text=text,
        html=html,
        headers=headers,
    )


def request_for(esp: str, number: int) -> tuple[str, dict]:
    """(path, requests keyword arguments) for one email."""
    from tests.contacts import inbound_payloads as p

    if esp == "mailgun":
        return "/webhooks/inbound/mailgun_mime/", {"data": p.mailgun_mime_form(raw_email(number))}
    text = body(number)
    payload = p.postmark_json(
        message_id=f"<bench-{number}@mail.example>",
        from_email=f"ann{number % 500}@mail.example",
        subject=f"Re: Double charge again (case {number})",
        text=text,
        html="<html><body>" + "".join(f"<p>{x}</p>" for x in text.split("\n")) + "</body></html>",
        headers=[{"Name": f"X-Relay-{n}", "Value": f"mx{n}.mail.example"} for n in range(30)],
    )
    return "/webhooks/inbound/postmark/", {
        "data": json.dumps(payload),
        "headers": {"Content-Type": "application/json"},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env() -> dict:
    from tests.contacts import inbound_payloads as p

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voc.settings",
        "DATABASE_URL": BENCH_DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "ANYMAIL_WEBHOOK_SECRET": p.WEBHOOK_SECRET,
        "ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY": p.MAILGUN_KEY,
        "PYTHONUNBUFFERED": "1",
    }


def start(command: list[str], log: Path) -> subprocess.Popen:
    with log.open("wb") as handle:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=service_env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.005)
    raise SystemExit(f"gave up waiting for {what}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="emails per provider in (1)")
    parser.add_argument("--latency", type=int, default=50, help="emails timed one by one in (3)")
    parser.add_argument("--esp", choices=["mailgun", "postmark", "both"], default="both")
    args = parser.parse_args()

    import redis
    import requests

    os.environ["CELERY_BROKER_URL"] = BROKER_URL
    setup_django(fresh=True)
    redis.Redis.from_url(BROKER_URL).flushdb()
    from contacts.models import Contact, InboundEmail
    from tests.contacts.inbound_payloads import basic_auth

    logs = Path(ROOT / "var" / "bench-inbound")
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(
        [
            str(Path(sys.prefix) / "bin" / "gunicorn"),
            "voc.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--access-logfile",
            "-",
        ],
        logs / "gunicorn.log",
    )
    worker = None
    local = threading.local()
    auth = {"Authorization": basic_auth()}

    def post(esp: str, number: int, prepared: tuple[str, dict] | None = None) -> float:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        path, kwargs = prepared or request_for(esp, number)
        kwargs["headers"] = {**kwargs.get("headers", {}), **auth}
        started = time.perf_counter()
        response = local.session.post(base + path, timeout=30, **kwargs)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{esp} webhook answered {response.status_code}: {response.text}")
        return elapsed

    rows = []
    try:
        wait_until(
            lambda: _answers(base), timeout=30, what=f"gunicorn on {base} ({logs}/gunicorn.log)"
        )
        esps = ["mailgun", "postmark"] if args.esp == "both" else [args.esp]
        number = 0
        for esp in esps:
            numbers = range(number, number + args.requests)
            number += args.requests
            post(esp, 10_000_000 + number)  # warm up this provider's path
            # Built before the clock starts: the client must not compete with the server.
            prepared = {n: request_for(esp, n) for n in numbers}
            timer = Timer()
            with ThreadPoolExecutor(CLIENTS) as pool:
                latencies = list(
                    pool.map(lambda n, esp=esp, ready=prepared: post(esp, n, ready[n]), numbers)
                )
            seconds = timer.seconds
            rows.append(
                (
                    f"answered: {esp} webhook, {CLIENTS} clients, no worker",
                    args.requests,
                    seconds,
                    f"{args.requests / seconds:,.0f} requests/s; answer p50 "
                    f"{statistics.median(latencies) * 1000:.0f} ms, p95 "
                    f"{percentile(latencies, 0.95) * 1000:.0f} ms",
                )
            )
        stored = InboundEmail.objects.count()
        pending = InboundEmail.objects.filter(status="pending").count()

        timer = Timer()
        worker = start(
            [
                str(Path(sys.prefix) / "bin" / "celery"),
                "-A",
                "voc",
                "worker",
                "--loglevel=WARNING",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            logs / "worker.log",
        )
        wait_until(
            lambda: not InboundEmail.objects.filter(status="pending").exists(),
            timeout=max(120, pending),
            what=f"the worker to thread {pending} emails ({logs}/worker.log)",
        )
        seconds = timer.seconds
        contacts = Contact.objects.filter(source="email").count()
        # Each new contact also queued its sentiment task, behind the threading tasks on the
        # same queue: let the worker finish those too, so (3) starts with an idle worker.
        wait_until(
            lambda: not Contact.objects.filter(sentiment__isnull=True).exists(),
            timeout=max(120, pending),
            what="the worker to score the new contacts' sentiment",
        )
        scored_after = timer.seconds
        rows.append(
            (
                "drain: a worker (concurrency 1) threads the queue, from its start",
                pending,
                seconds,
                f"{pending / seconds:,.0f} emails/s; {stored} stored, {contacts} contacts; "
                f"their sentiment tasks done after {scored_after:.1f} s",
            )
        )

        delays = []
        for offset in range(args.latency):
            number += 1
            esp = esps[offset % len(esps)]
            started = time.perf_counter()
            post(esp, number)
            message_id = f"bench-{number}@mail.example"
            wait_until(
                lambda message_id=message_id: InboundEmail.objects.filter(
                    message_id=message_id, status="threaded", contact__isnull=False
                ).exists(),
                timeout=60,
                what=f"email {message_id} to become a contact",
            )
            delays.append(time.perf_counter() - started)
        rows.append(
            (
                "webhook → contact visible, one email at a time, worker idle",
                args.latency,
                sum(delays),
                f"p50 {statistics.median(delays) * 1000:.0f} ms, p95 "
                f"{percentile(delays, 0.95) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms",
            )
        )
    finally:
        if worker is not None:
            stop(worker)
        stop(server)

    print("| measurement | emails | seconds | result |")
    print("|---|---:|---:|---|")
    for label, count, seconds, result in rows:
        print(f"| {label} | {count:,} | {seconds:.1f} | {result} |")


def _answers(base: str) -> bool:
    import requests

    try:
        return requests.get(base + "/healthz/", timeout=2).status_code == 200
    except requests.RequestException:
        return False


if __name__ == "__main__":
    main()

"""The dashboards read from the read replica (voc.core.db_routers): every query of a panel, the
page and a drill-down (its export too, streamed after the view returns) runs on the ``replica``
alias, only the session and the signed-in user are read from the primary, writes stay on the
primary, and the figures are the primary's.

tests/settings.py makes ``replica`` a second connection to the test database (TEST MIRROR),
read-only on PostgreSQL. A second connection cannot see a test's open transaction, so these
tests commit (transaction=True) and the router is seen doing its real work."""

import csv
import io
import re

import pytest
import time_machine
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.utils import InternalError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import ContactReason
from tests.dashboards import world
from voc.core import db_routers
from voc.core.db_routers import REPLICA, read_alias, replica_reads
from voc.dashboards.panels import PANELS

pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
HTMX = {"HX-Request": "true"}
# What the primary still answers for a dashboard request: the session and the signed-in user,
# read by the access check before the view (and its replica reads) starts.
PRIMARY_TABLES = {"django_session", "people_user"}
# The CSRF token differs per response (masked afresh each time); the figures do not.
CSRF = re.compile(rb'(csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]*"')


@pytest.fixture
def data(cast, settings):
    settings.VOC_REPORTING_TIME_ZONE = world.TZ
    with time_machine.travel(world.TODAY, tick=False):
        reasons = world.make_reasons(cast)
        world.make_contacts(cast, reasons)
        world.make_feedback(cast, reasons)
        yield reasons


def _tables(queries) -> set[str]:
    return {
        table
        for query in queries
        for table in re.findall(r'(?:FROM|JOIN|INTO|UPDATE)\s+"(\w+)"', query["sql"])
    }


def _get(client, url, params, **headers):
    """The response with the queries each alias ran for it (streamed content included)."""
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        response = client.get(url, params, headers=headers)
        content = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200, content[:300]
    return content, primary, replica


@pytest.mark.parametrize("key", list(PANELS))
def test_each_panel_reads_its_figures_from_the_replica(cast, client, data, key):
    client.force_login(cast.executive)
    url = reverse("dashboards:panel", args=[key])
    _content, primary, replica = _get(client, url, world.query(), **HTMX)
    assert _tables(primary) <= PRIMARY_TABLES
    assert len(primary) == 2  # the session, the user
    assert len(replica) > 0
    assert not any(q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
                   for q in replica)  # fmt: skip


def test_the_figures_are_the_primarys(cast, client, data, monkeypatch):
    """The same bytes whether the reads go to the replica or, without one, to the primary."""
    client.force_login(cast.executive)
    urls = [reverse("dashboards:panel", args=[key]) for key in PANELS]
    urls += [reverse("dashboards:drill-contacts"), reverse("dashboards:drill-feedback")]
    from_replica = {}
    for url in urls:
        content, _primary, replica = _get(client, url, world.query(), **HTMX)
        assert len(replica) > 0
        from_replica[url] = content
    monkeypatch.setattr(db_routers, "replica_configured", lambda: False)
    for url in urls:
        content, primary, replica = _get(client, url, world.query(), **HTMX)
        assert len(replica) == 0
        assert len(primary) > 2
        assert CSRF.sub(b"", content) == CSRF.sub(b"", from_replica[url])


def test_the_page_reads_from_the_replica(cast, client, data):
    client.force_login(cast.manager)
    _content, primary, replica = _get(client, reverse("dashboards:executive"), world.query())
    assert _tables(primary) <= PRIMARY_TABLES
    assert "people_team" in _tables(replica)  # the filter form's teams


def test_a_drill_down_and_its_streamed_export_read_from_the_replica(cast, client, data):
    client.force_login(cast.manager)
    url = reverse("dashboards:drill-contacts")
    params = world.query() | {"avoidable": "1"}
    expected = sorted(
        c.id for c in world.contacts_counted(cast.manager, world.filters())
        if c.reason and c.reason.avoidable
    )  # fmt: skip
    _content, primary, replica = _get(client, url, params)
    assert _tables(primary) <= PRIMARY_TABLES
    assert "contacts_contact" in _tables(replica)
    content, primary, replica = _get(client, url, params | {"format": "csv"})
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert sorted(int(row[-1]) for row in rows[1:]) == expected
    assert _tables(primary) <= PRIMARY_TABLES
    assert "contacts_contact" in _tables(replica)  # read while the rows were streamed


def test_writes_inside_replica_reads_go_to_the_primary(cast):
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
        replica_reads(),
    ):
        reason = ContactReason.objects.create(name="Written inside replica reads")
        assert ContactReason.objects.get(id=reason.id).name == "Written inside replica reads"
    assert [q["sql"].split()[0] for q in primary] == ["INSERT"]
    assert [q["sql"].split()[0] for q in replica] == ["SELECT"]


def test_a_read_in_a_transaction_on_the_primary_stays_there(cast):
    """It may need to see its own writes, which the replica has not got."""
    with replica_reads():
        assert read_alias() == REPLICA
        with transaction.atomic():
            reason = ContactReason.objects.create(name="Not committed yet")
            assert read_alias() == DEFAULT_DB_ALIAS
            assert ContactReason.objects.filter(id=reason.id).exists()
        assert read_alias() == REPLICA


def test_reads_stay_on_the_primary_outside_replica_reads_or_without_a_replica(cast, monkeypatch):
    assert read_alias() == DEFAULT_DB_ALIAS
    assert ContactReason.objects.all().db == DEFAULT_DB_ALIAS
    with replica_reads():
        assert ContactReason.objects.all().db == REPLICA
        monkeypatch.setattr(db_routers, "replica_configured", lambda: False)
        assert ContactReason.objects.all().db == DEFAULT_DB_ALIAS


def test_the_replica_connection_refuses_writes(cast):
    if connections[REPLICA].vendor != "postgresql":
        pytest.skip("read-only sessions are PostgreSQL's")
    with pytest.raises(InternalError, match="read-only transaction"):
        ContactReason.objects.using(REPLICA).create(name="Misrouted")

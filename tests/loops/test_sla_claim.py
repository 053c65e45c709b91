"""The escalation claim's columns travel as array literals: each value comes back from
PostgreSQL exactly as it went in (NULLs, quotes, backslashes, commas, braces, time zones)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from loops.sla.services import array_literal

pytestmark = pytest.mark.django_db


def test_the_literal_reads_back_as_the_values():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL arrays")
    ids = [1, None, 9_007_199_254_740_993, 0]
    texts = ["response", None, 'a "quoted", {braced} \\ one', "", "NULL"]
    times = [
        datetime(2026, 11, 2, 9, 30, 0, 123456, tzinfo=UTC),
        None,
        datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=2))),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::bigint[], %s::varchar[], %s::timestamptz[]",
            [array_literal(ids), array_literal(texts), array_literal(times)],
        )
        back_ids, back_texts, back_times = cursor.fetchone()
    assert back_ids == ids
    assert back_texts == texts  # "NULL" quoted stays the word, not a NULL
    assert back_times == times


def test_naive_times_and_booleans_are_refused():
    with pytest.raises(ValueError):
        array_literal([datetime(2026, 1, 1)])  # naive: the point of the test
    with pytest.raises(TypeError):
        array_literal([True])
    assert array_literal([]) == "{}"

"""contacts 0009_importrun_kind's data step: runs told apart by the "feedback: " file name
prefix get the kind feedback and their file name back; the reverse step puts the prefix back."""

import importlib

import pytest
from django.apps import apps

from contacts.models import ImportRun

pytestmark = pytest.mark.django_db

migration = importlib.import_module("contacts.migrations.0009_importrun_kind")


def test_runs_with_the_feedback_prefix_become_feedback_runs():
    kept = [
        "/data/calls.csv",
        "/data/feedback: calls.csv",  # the prefix only counts at the start
        "Feedback: calls.csv",  # in the case the import wrote
        "feedback:calls.csv",  # with its space
        "feedback",
    ]
    for name in kept:
        ImportRun.objects.create(file_name=name)
    ImportRun.objects.create(file_name="feedback: /data/answers.csv.gz")
    ImportRun.objects.create(file_name="feedback: feedback: twice.csv")
    ImportRun.objects.create(file_name="feedback: ")

    migration.runs_kind_from_prefix(apps, None)

    runs = ImportRun.objects.order_by("id").values_list("kind", "file_name")
    assert list(runs) == [("contacts", name) for name in kept] + [
        ("feedback", "/data/answers.csv.gz"),
        ("feedback", "feedback: twice.csv"),  # only the prefix the import added goes
        ("feedback", ""),
    ]


def test_the_reverse_step_puts_the_prefix_back_within_the_column():
    ImportRun.objects.create(kind="contacts", file_name="/data/calls.csv")
    ImportRun.objects.create(kind="feedback", file_name="/data/answers.csv")
    ImportRun.objects.create(kind="feedback", file_name="x" * 500)

    migration.runs_prefix_from_kind(apps, None)

    names = list(ImportRun.objects.order_by("id").values_list("file_name", flat=True))
    assert names == ["/data/calls.csv", "feedback: /data/answers.csv", "feedback: " + "x" * 490]
    migration.runs_kind_from_prefix(apps, None)
    assert ImportRun.objects.order_by("id").values_list("file_name", flat=True)[1] == (
        "/data/answers.csv"
    )

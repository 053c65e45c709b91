"""Keep the issues' search documents current: an issue saved, or evidence added or removed,
rebuilds that issue's document once the transaction commits (loops/flags/index.py)."""

from typing import Any

from loops.flags.index import issue_index_after_commit
from loops.models import Issue, IssueEvidence


def on_issue_saved(sender: type[Issue], instance: Issue, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    issue_index_after_commit(instance.pk)


def on_evidence_changed(
    sender: type[IssueEvidence], instance: IssueEvidence, **kwargs: Any
) -> None:
    if kwargs.get("raw"):
        return
    issue_index_after_commit(instance.issue_id)

"""What other parts of loops react to, sent after the writing transaction commits (so a
receiver that queues a task never looks for a row that is not there yet):

- ``issue_status_changed(issue_id, before, after, actor_id)``: verification when an issue is
  fixed, notices when it is closed, reporters' home pages;
- ``issue_assigned(issue_id, owner_id, previous_owner_id)``: the assignment email;
- ``follow_up_assigned(follow_up_ids)``: follow-ups opened for, or reassigned to, someone
  (their assignment emails).
"""

from django.dispatch import Signal

issue_status_changed = Signal()
issue_assigned = Signal()
follow_up_assigned = Signal()

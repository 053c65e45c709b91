"""Fix notices: telling every customer who reported an issue that it was fixed.

From a fixed (or verified) issue its owner (or the head of its department) writes a notice,
previews it for the customers it would reach (the reporters; optionally everyone with a contact
on the issue's reasons since it was first seen, offered with a count), and approves it. Sending
then runs in Celery tasks, in chunks (``services.notice_plan`` → ``services.notice_send_chunk``):
each customer is asked of the contact budget's "fix notice" rule and handed to the send-once
helper (one email per issue and customer, ever), or left out with the reason recorded. The
delivery state comes back from send-once (``notices_reconcile``) and from the ESP's tracking
webhooks (``tracking``). Design notes: docs/loops-notices.md.
"""

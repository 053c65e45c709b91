"""Promote to issue: a feedback item, a side-by-side note or an outreach entry (a call, a
be-a-customer exercise, a forum topic) becomes a new issue, or evidence on an existing one, in
one step from its page in feedback (feedback's action slots, filled from LoopsConfig.ready()).
See docs/loops-promote.md."""

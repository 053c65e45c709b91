"""Complaints as gifts: a complaint shows who to thank and what to fix, and a manager or an
executive thanks the customer in one click (docs/feedback-pages.md)."""

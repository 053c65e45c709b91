"""Inbound email: ESP webhooks (through django-anymail) store each email, redacted, and a task
threads it into a contact. See docs/inbound-email.md."""

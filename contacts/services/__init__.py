"""Writes of the contacts app, by entity: contacts, customers, reasons, messages, sentiment.

Every page, API view, admin action and task calls the same service; each takes ``by=`` (the
user acting, or a voc.core.audit.SystemActor) and records people's actions in the audit trail.
Contact changes go through the one write primitive, contacts.changes.contact_change; new
contacts through the ingest service (contacts.ingest.service), which keeps the same contract
for a whole batch.
"""

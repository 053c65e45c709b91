"""File imports, whatever they write: CSV and NDJSON readers, the mapping format (JSON or
TOML) and its validation, the row mapper, the per-row error report and the batch loop with
its run record. An app describes its fields once (``schema.FieldSchema``) and writes its
batches; contacts (contacts/ingest/imports.py) and feedback items
(feedback/items/imports.py) are built this way. See docs/ingest.md.
"""

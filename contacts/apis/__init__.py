"""The contacts REST API: customers, contacts, messages, reasons, and bulk ingest.

One API class per operation (HackSoft style): input and output serializers with a service or
selector call between them. Reads apply the caller's row scope through contacts.selectors;
writes go through the services of contacts.services (or the ingest service itself). Customer text is
returned as JSON, never HTML, and was redacted before it was stored.

The operations live in modules by group (customers, contacts, messages, reasons, bulk), with
shared permissions, errors and fields in common, list filters in filters and output
serializers in serializers.
"""

"""Customer erasure (the right to erasure): services in ``services``, tombstone checks in
``tombstones``. Later apps add what they keep about a customer through
``contacts.registry.register_erasure_handler``."""

"""The contact budget: one ledger of who VoC contacted, for what and when, and the rules every
app asks before contacting a customer (survey, callback, fix notice, outreach). See
docs/architecture.md, "Contact budget", and CONTRIBUTING.md for the recipe."""

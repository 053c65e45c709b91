"""Post-contact surveys: after a contact closes, a sampled customer is asked by email one
question (NPS or CSAT) and "tell us why"; the answer becomes a FeedbackItem. See
docs/surveys.md."""

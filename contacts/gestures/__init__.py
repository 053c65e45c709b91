"""Make it right: goodwill gestures a rep gives on a contact (a credit, a refund, a fee waived,
a replacement, a call back from a specialist). Within the giver's allowance (business settings
``make_it_right_per_gesture`` and ``make_it_right_per_month``, per role or team) a gesture is
granted at once; above it, it waits for one click from the giver's team lead or department
head (or an executive or admin). docs/gestures.md."""

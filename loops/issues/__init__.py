"""The issue pages: the issue page (facts, evidence and the parts' panels) and the board."""

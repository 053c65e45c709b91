"""Thumbs up / thumbs down stories: memorable experiences of customers, good and bad, told by
whoever was there and read by executives (the wall, a home widget, the bcc digests). See
docs/stories.md."""

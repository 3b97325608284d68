"""field package."""

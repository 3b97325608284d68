"""The sergeant's console: a PySide6 desktop app (see docs/architecture.md)."""

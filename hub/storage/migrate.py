"""Apply the Alembic migrations in `db/migrations` programmatically when the hub starts."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

log = logging.getLogger(__name__)

# db/migrations lives in the repository next to the hub package.
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "db" / "migrations"


class MigrationError(RuntimeError):
    """The database could not be brought up to date; the message says why, for a human."""


def alembic_config() -> Config:
    """An Alembic Config pointing at db/migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Run every pending migration on `engine`; raise MigrationError with a readable message."""
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise MigrationError(f"Database migrations not found at {MIGRATIONS_DIR}")
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception as exc:
        raise MigrationError(
            f"Could not migrate the database {engine.url.render_as_string(hide_password=True)}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    log.info("database is at the latest schema")

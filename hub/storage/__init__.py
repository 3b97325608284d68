"""The hub's database: ORM tables, engine set-up, migrations."""

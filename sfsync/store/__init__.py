"""The local store: SQLModel tables over SQLite or PostgreSQL, migrated by Alembic."""

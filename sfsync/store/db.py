"""Engine creation, migrations on first use, and transactions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

from sfsync.errors import StoreError
from sfsync.settings import mask_url

__all__ = ["Store", "open_store", "upsert_insert"]

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant works; it only has to be the same for every replica.
_MIGRATION_LOCK_KEY = 0x5F5_0001


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


class Store:
    """The local database: one engine, sessions on demand."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together or not at all.

        A lost or refused database connection becomes a retryable StoreError:
        nothing of the transaction was kept, and the next run does it again.
        """
        with self.session() as session:
            try:
                yield session
                session.commit()
            except (OperationalError, InterfaceError) as exc:
                with contextlib.suppress(Exception):
                    session.rollback()
                raise StoreError(
                    "the database connection failed mid-transaction "
                    f"({type(exc.orig).__name__}: {str(exc.orig).strip()[:200]}); "
                    "nothing of that transaction was kept",
                    hint="the next cycle does it again; if it repeats, check the "
                    "database server and SFSYNC_DATABASE_URL",
                    retryable=True,
                ) from exc
            except BaseException:
                session.rollback()
                raise

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        script = ScriptDirectory.from_config(_alembic_config(self.engine))
        return script.get_current_head()

    def upgrade(self) -> None:
        """Bring the schema to the newest migration; safe with several replicas."""
        config = _alembic_config(self.engine)
        if self.dialect == "postgresql":
            with self.engine.connect() as connection:
                connection.execute(
                    text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK_KEY}
                )
                try:
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                    connection.commit()
                finally:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:k)"),
                        {"k": _MIGRATION_LOCK_KEY},
                    )
                    connection.commit()
        else:
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def upsert_insert(session: Session, table: Any) -> Any:
    """An INSERT on ``table`` that takes ON CONFLICT clauses, for either database."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite opens transactions itself, but not before DDL: a migration's
    # CREATE TABLEs would each commit alone, and a process killed between
    # them would leave a half-made schema. With its own handling off, every
    # transaction starts with an explicit BEGIN (below), DDL included.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the scheduler's jobs read while another writes; the busy
    # timeout turns a brief lock into a wait instead of an error.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the database at ``url``, migrating it to the newest schema first."""
    store = Store(make_engine(url))
    try:
        if migrate and store.current_revision() != store.head_revision():
            store.upgrade()
    except OperationalError as exc:
        raise StoreError(
            f"cannot open the database {mask_url(url)}: {exc.orig}",
            hint="check SFSYNC_DATABASE_URL and that the database server is running",
        ) from exc
    return store

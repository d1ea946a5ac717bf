"""Entry point of the sqlalchemy plugin: registers its components lazily.

Nothing here imports SQLAlchemy or a database driver; the classes are imported when a
scheduler first resolves them by name or URL scheme.
"""

from __future__ import annotations

from apscheduler.hookspecs import Register, hookimpl

#: URL schemes handled by the SQL data store.
DATA_STORE_SCHEMES = (
    "sqlite",
    "sqlite+aiosqlite",
    "sqlite+pysqlite",
    "postgresql",
    "postgresql+asyncpg",
    "postgresql+psycopg",
    "postgresql+psycopg2",
    "mysql",
    "mysql+asyncmy",
    "mysql+pymysql",
    "mariadb",
    "mariadb+asyncmy",
    "mariadb+pymysql",
)


@hookimpl
def register_data_stores(register: Register) -> None:
    register(
        "sqlalchemy",
        "apscheduler_sqlalchemy.datastore:SQLAlchemyDataStore",
        url_schemes=DATA_STORE_SCHEMES,
        description="Persists to SQLite, PostgreSQL or MySQL/MariaDB through SQLAlchemy",
    )


@hookimpl
def register_event_brokers(register: Register) -> None:
    register(
        "asyncpg",
        "apscheduler_sqlalchemy.asyncpg_broker:AsyncpgEventBroker",
        url_schemes=("postgresql", "postgresql+asyncpg"),
        description="Shares events between processes through PostgreSQL LISTEN/NOTIFY (asyncpg)",
    )
    register(
        "psycopg",
        "apscheduler_sqlalchemy.psycopg_broker:PsycopgEventBroker",
        url_schemes=("postgresql+psycopg",),
        description="Shares events between processes through PostgreSQL LISTEN/NOTIFY (psycopg)",
    )

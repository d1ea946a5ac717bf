"""Re-exports ``SQLAlchemyDataStore`` from the apscheduler-sqlalchemy plugin."""

try:
    from apscheduler_sqlalchemy.datastore import SQLAlchemyDataStore
except ImportError as exc:
    raise ImportError(
        f'SQLAlchemyDataStore needs the sqlalchemy plugin: pip install "apscheduler[sqlalchemy]" '
        f"({exc})"
    ) from exc

__all__ = ["SQLAlchemyDataStore"]

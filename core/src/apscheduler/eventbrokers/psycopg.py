"""Re-exports ``PsycopgEventBroker`` from the apscheduler-sqlalchemy plugin."""

try:
    from apscheduler_sqlalchemy.psycopg_broker import PsycopgEventBroker
except ImportError as exc:
    raise ImportError(
        f'PsycopgEventBroker needs psycopg and the sqlalchemy plugin: pip install '
        f'"apscheduler[postgresql]" ({exc})'
    ) from exc

__all__ = ["PsycopgEventBroker"]

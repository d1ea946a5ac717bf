"""Re-exports ``AsyncpgEventBroker`` from the apscheduler-sqlalchemy plugin."""

try:
    from apscheduler_sqlalchemy.asyncpg_broker import AsyncpgEventBroker
except ImportError as exc:
    raise ImportError(
        f'AsyncpgEventBroker needs asyncpg and the sqlalchemy plugin: pip install '
        f'"apscheduler[postgresql]" ({exc})'
    ) from exc

__all__ = ["AsyncpgEventBroker"]

"""Entry point of the redis plugin: registers its components lazily.

Targets are ``"module:attr"`` strings, so listing plugins never imports redis-py.
"""

from __future__ import annotations

from apscheduler.hookspecs import Register, hookimpl


@hookimpl
def register_event_brokers(register: Register) -> None:
    register(
        "redis",
        "apscheduler_redis.eventbroker:RedisEventBroker",
        url_schemes=["redis", "rediss"],
        description="Shares events between processes through Redis pub/sub",
    )


@hookimpl
def register_data_stores(register: Register) -> None:
    register(
        "redis",
        "apscheduler_redis.datastore:RedisDataStore",
        url_schemes=["redis", "rediss"],
        description="Keeps tasks, schedules and jobs in Redis (safe for many schedulers)",
    )

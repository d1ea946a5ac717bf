"""The built-in plugin: registers the core's own components through the public hooks,
exactly as an installed plugin would. Targets are lazy, so nothing here is imported
until it is used."""

from __future__ import annotations

from .hookspecs import Register, hookimpl


@hookimpl
def register_triggers(register: Register) -> None:
    register("date", "apscheduler.triggers.date:DateTrigger")
    register("interval", "apscheduler.triggers.interval:IntervalTrigger")
    register(
        "calendarinterval", "apscheduler.triggers.calendarinterval:CalendarIntervalTrigger"
    )
    register("cron", "apscheduler.triggers.cron:CronTrigger")
    register("and", "apscheduler.triggers.combining:AndTrigger")
    register("or", "apscheduler.triggers.combining:OrTrigger")


@hookimpl
def register_data_stores(register: Register) -> None:
    register(
        "memory",
        "apscheduler.datastores.memory:MemoryDataStore",
        url_schemes=["memory"],
        description="Keeps everything in this process's memory (lost on restart)",
    )


@hookimpl
def register_event_brokers(register: Register) -> None:
    register(
        "local",
        "apscheduler.eventbrokers.local:LocalEventBroker",
        url_schemes=["local"],
        description="Delivers events within this process only",
    )


@hookimpl
def register_job_executors(register: Register) -> None:
    register(
        "async",
        "apscheduler.executors.async_:AsyncJobExecutor",
        description="Runs coroutine functions on the event loop",
    )
    register(
        "threadpool",
        "apscheduler.executors.thread:ThreadPoolJobExecutor",
        description="Runs functions in a pool of worker threads",
    )


@hookimpl
def register_serializers(register: Register) -> None:
    register("json", "apscheduler.serializers.json:JSONSerializer")
    register("pickle", "apscheduler.serializers.pickle:PickleSerializer")
    register("cbor", "apscheduler.serializers.cbor:CBORSerializer")

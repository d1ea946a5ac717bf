"""Entry point of the mongodb plugin: registers its components lazily."""

from __future__ import annotations

from apscheduler.hookspecs import Register, hookimpl


@hookimpl
def register_data_stores(register: Register) -> None:
    register(
        "mongodb",
        "apscheduler_mongodb.datastore:MongoDBDataStore",
        url_schemes=["mongodb", "mongodb+srv"],
        description="Keeps tasks, schedules and jobs in MongoDB (shared by many schedulers)",
    )

"""APScheduler 3 job stores, mapped onto the core's data stores.

``MemoryJobStore``, ``SQLAlchemyJobStore``, ``RedisJobStore`` and ``MongoDBJobStore`` keep
their APScheduler 3 import paths and constructor arguments; each one describes the core
data store (:mod:`apscheduler.datastores`) that a v3 scheduler creates for it.
"""

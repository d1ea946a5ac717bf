"""Job executors: async and threadpool are built in; others come from plugins."""

"""Event brokers: the local broker is built in; others come from plugins."""

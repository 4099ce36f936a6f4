"""Jobs: the durable SQLite store, the service the handlers call, executors, the local worker, rendering."""

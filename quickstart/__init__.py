"""The quick start: embedded PostgreSQL and Redis, and the `make run` launcher."""

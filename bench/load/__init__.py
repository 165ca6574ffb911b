"""The whole-journey load run (`python -m bench.load`, docs/load.md): Locust users replay
the founding journey against `make run`'s processes, then the journal is checked."""

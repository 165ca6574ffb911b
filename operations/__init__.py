"""The operator's view: health checks, the Prometheus endpoint and the request and socket
telemetry that feeds it (docs/operations.md)."""

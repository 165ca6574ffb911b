"""The REST API for the shop's servers: events, customers, timelines, messages (/api/v1/)."""

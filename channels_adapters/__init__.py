"""One package per channel: each parses inbound traffic into the journal and sends outbound."""

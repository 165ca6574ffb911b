"""The heart of Throughline: customers, identities, the one conversation, its journal, cases."""

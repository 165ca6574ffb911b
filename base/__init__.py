"""What every app stands on and that knows no domain: typed input edges, the one Redis
client factory, rate limits, the input-refusing middleware and log formatting.

Nothing here imports a project app; everything else may import it.
"""

"""The JSON API under /api/: thin DRF views over the selectors and the run service."""

def register(router):
    """Add the marketplace's routes to the API router."""

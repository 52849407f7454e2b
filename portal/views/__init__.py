"""The portal's pages: `structure` (projects, people) and `marketplace` (catalogue, resources, orders)."""

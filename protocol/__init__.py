"""What both sides of the provider protocol share: keys, signed tokens and message shapes.

This package imports nothing from the rest of the repository and nothing from Django, so the site
agent can be deployed on its own.
"""

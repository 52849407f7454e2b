"""The researchers' portal: server-rendered pages composed from every app's selectors and services."""

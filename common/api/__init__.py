"""API building blocks shared by every app: fields, viewsets, pagination, parsers, errors, OpenAPI."""

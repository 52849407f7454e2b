"""Plumbing every app uses and that knows no app: API building blocks, the domain's exceptions,
JSON validation, database helpers and login protection."""

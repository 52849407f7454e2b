"""The marketplace pages of the researchers' portal."""

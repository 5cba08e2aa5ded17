"""The prompt lab workspace."""

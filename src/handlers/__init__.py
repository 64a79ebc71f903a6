"""Thin Lambda entry points: parse the request, call core, shape the response."""

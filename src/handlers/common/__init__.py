"""Pieces every Lambda entry point shares: HTTP envelope and headers, resolver set-up,
observability, and the lazily created dependencies."""

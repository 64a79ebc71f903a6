"""Persona Router domain: pure Python, no AWS imports outside the storage / model adapters."""

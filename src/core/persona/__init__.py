"""The persona domain: resonance keys, inference, the catalog, routing, prompts and chat."""

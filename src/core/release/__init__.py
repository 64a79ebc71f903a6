"""Release control: rollout plans, gates, statistics and the controller, with their AWS adapters."""

"""boto3-backed implementations of the interfaces in core.persona.persona_ports."""

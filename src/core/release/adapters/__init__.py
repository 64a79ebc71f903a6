"""AWS adapters of the release ports (the only boto3 code of release control)."""

"""What both domains share: errors, AWS client configuration, settings."""

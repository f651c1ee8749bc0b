"""The HTTP service: API keys, governed query and retrieval, feedback."""

"""PaySystem: the command line, demo and synthetic data, and the first-look launcher (settings live in `settings`)."""

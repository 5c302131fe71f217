"""PaySystem: configuration, command line and the first-look launcher."""

"""The sfsync command line."""

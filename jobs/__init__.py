"""The scheduled jobs of `sfsync run`, one module each: when, under which lock, what."""

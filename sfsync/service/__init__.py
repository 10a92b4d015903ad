"""Running sfsync as a service: job locks, the scheduler, metrics and status."""

"""Settings and logging: the only place that reads the environment."""

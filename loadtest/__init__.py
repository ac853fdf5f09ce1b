"""Load tools: a private stack, a command backlog, benchmarks and the locust scenario."""

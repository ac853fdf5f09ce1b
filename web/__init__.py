"""The HTTP API: Sanic routes that read PostgreSQL and publish commands to RabbitMQ."""

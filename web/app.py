"""Build the Sanic application: routes, authentication, docs, and per-process connections."""

from __future__ import annotations

import asyncio
import logging
import os

from sanic import Sanic
from sanic_ext import Extend
from sanic_ext.extensions.openapi.extension import OpenAPIExtension

from config import logging as logging_config
from config.settings import Settings, load
from models import db
from models.errors import ConfigurationError
from models.messages import to_json
from models.passwords import hash_password, hasher
from web import auth, errors, metrics, reads
from web.directory import CompanyDirectory
from web.pending import PendingChecks
from web.routes import activations, companies, health
from workers.broker import Broker

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings) -> Sanic:
    """The API application; connections open in listeners, once per server process."""
    app = Sanic("activations", dumps=to_json, configure_logging=False)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.OAS_UI_DEFAULT = "swagger"
    app.config.OAS_URL_PREFIX = "/docs"
    app.config.OAS_UI_SWAGGER_URL = "/"  # so /docs itself is the UI
    app.config.CORS = False
    app.config.HTTP_AUTO_HEAD = False  # a HEAD must never run a command
    app.config.HEALTH = False
    # Every body this API takes is a few hundred bytes; a large one only ties up the loop.
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    # Only the OpenAPI documents and UI of sanic-ext: its other extensions (injection, the
    # HTTP and health ones, logging) are not used here, and injection alone dispatched a
    # signal on every request.
    Extend(app, extensions=[OpenAPIExtension], built_in_extensions=False)
    app.ext.openapi.add_security_scheme("token", "http", scheme="bearer", bearer_format="JWT")
    app.ext.openapi.describe(
        "Activation requests API",
        version="1",
        description="Log in at `POST /auth` with your CPF and password, then send the access token as "
        "`Authorization: Bearer <token>`. Commands answer 202 once RabbitMQ has them; poll the `href`.",
    )
    app.ctx.settings = settings
    app.ctx.companies = CompanyDirectory(reads.company_rows)
    app.ctx.pending_checks = PendingChecks(reads.pending_pairs)
    auth.setup(app, settings)
    errors.register(app)
    metrics.install(app)
    for module in (health, companies, activations):
        app.blueprint(module.bp)

    @app.before_server_start
    async def open_connections(app: Sanic) -> None:
        await db.connect(settings, settings.api_db_pool_size, plans="split")
        app.ctx.hasher = hasher(settings)
        loop = asyncio.get_running_loop()
        app.ctx.dummy_hash = await loop.run_in_executor(None, hash_password, app.ctx.hasher, "not-a-password")
        app.ctx.broker = Broker(settings, f"api pid {os.getpid()}")
        # Connect in the background: the API serves reads and /health while RabbitMQ is away.
        app.ctx.broker_task = asyncio.create_task(connect_broker(app))

    @app.after_server_stop
    async def close_connections(app: Sanic) -> None:
        app.ctx.broker_task.cancel()
        await app.ctx.broker.close()
        await db.disconnect()

    return app


async def connect_broker(app: Sanic) -> None:
    """Connect to RabbitMQ for as long as it takes; stop the server if the topology conflicts."""
    try:
        await app.ctx.broker.connect_with_retry()
    except ConfigurationError as exc:
        log.critical("Cannot use RabbitMQ: %s Stopping the API.", exc)
        app.stop()


def build() -> Sanic:
    """Factory for each server process: read settings, configure logging, build the app."""
    settings = load()
    logging_config.setup(settings.log_level, "api")
    return create_app(settings)

"""The raw API ceiling: the least an endpoint like ours must do, and nothing more.

`GET /ceiling` verifies a JWT (HS256, the same secret as the API) and publishes one
persistent message with publisher confirms, then answers 202. No validation, no database.
It publishes as our API does, on the channel under aio-pika's with pamqp properties built
directly (aio-pika's `Message` costs more than the rest of a publish), so the two compare
like with like. `make bench` measures our `GET /activations/request` against it on the
same machine.

    python -m loadtest.ceiling_api --port 8300
"""

from __future__ import annotations

import argparse

import aio_pika
import aiormq
import jwt
import orjson
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from config.settings import load

CEILING_QUEUE = "bench.ceiling.api"


def create_app() -> Sanic:
    settings = load()
    app = Sanic("ceiling_api", configure_logging=False)

    @app.before_server_start
    async def connect(app: Sanic) -> None:
        app.ctx.connection = await aio_pika.connect_robust(settings.amqp_url)
        app.ctx.channel = await app.ctx.connection.channel(publisher_confirms=True)
        await app.ctx.channel.declare_queue(CEILING_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        app.ctx.properties = aiormq.spec.Basic.Properties(delivery_mode=int(aio_pika.DeliveryMode.PERSISTENT))

    @app.after_server_stop
    async def close(app: Sanic) -> None:
        await app.ctx.connection.close()

    @app.get("/ceiling")
    async def ceiling(request: Request) -> HTTPResponse:
        token = (request.headers.get("authorization") or "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, settings.secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return json({"error": "unauthorized"}, status=401)
        body = orjson.dumps({"cpf": claims.get("cpf"), "company": request.args.get("company")})
        underlay = await app.ctx.channel.get_underlay_channel()
        await underlay.basic_publish(body, routing_key=CEILING_QUEUE, properties=app.ctx.properties)
        return json({"status": "queued"}, status=202)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtest.ceiling_api", description=__doc__)
    parser.add_argument("--port", type=int, default=8300)
    args = parser.parse_args()
    app = create_app()
    app.prepare(host="127.0.0.1", port=args.port, single_process=True, access_log=False, motd=False)
    Sanic.serve_single(primary=app)


if __name__ == "__main__":
    main()

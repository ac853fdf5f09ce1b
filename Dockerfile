# syntax=docker/dockerfile:1
# One image for every process of the service; compose picks the command:
#   python -m web                      API (default)
#   python -m workers pool command     command workers
#   python -m workers pool notifier    notifier
#   aerich upgrade                     migrations

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: install the pinned lock file into a virtualenv we can copy whole ---
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

# Every pinned package ships a manylinux wheel for CPython 3.11, so no compiler is needed.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt

# --- runtime: the virtualenv and the app, run as an unprivileged user ---
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

WORKDIR /app

COPY --from=build /opt/venv /opt/venv

# The code stays owned by root (read-only to the app user); aerich reads
# pyproject.toml from the working directory.
COPY pyproject.toml ./
COPY config/ config/
COPY models/ models/
COPY web/ web/
COPY workers/ workers/

# Bytecode is compiled once here because the app user cannot write beside the code;
# var/ is the one writable place (the local SMTP sink's MAIL_DIR=var/mail).
RUN python -m compileall -q config models web workers \
 && mkdir -p var/mail \
 && chown -R app:app var

# Numeric, so orchestrators can verify the user is not root without reading /etc/passwd.
USER 10001:10001

EXPOSE 8000

CMD ["python", "-m", "web"]

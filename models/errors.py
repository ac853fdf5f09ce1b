"""One error hierarchy: what to retry later versus what will never succeed."""

from __future__ import annotations


class ActivationServiceError(Exception):
    """Base of every error this service raises on purpose."""


class ConfigurationError(ActivationServiceError):
    """The settings or the broker/database topology are wrong; fail fast at start-up."""


class TransientError(ActivationServiceError):
    """Something outside us is down or slow; the same work may succeed later."""


class PermanentError(ActivationServiceError):
    """This input can never be processed; retrying it is pointless (dead-letter it)."""


class InvalidMessage(PermanentError):
    """A message body that is not a valid command or mail job."""


class Deferred(ActivationServiceError):
    """Not now: this message should come back after a delay (e.g. it overtook the one it needs)."""

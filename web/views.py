"""How activations, their history and companies look in JSON answers (from the rows of `web.reads`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def company_view(cnpj: str, name: str | None) -> dict[str, Any]:
    return {"cnpj": cnpj, "name": name}


def event_view(event: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "command": event["command"],
        "command_id": event["command_id"],
        "outcome": event["outcome"],
        "actor_cpf": event["actor_cpf"],
        "from_status": event["from_status"],
        "to_status": event["to_status"],
        "rejection": event["reason_code"],
        "message": event["message"],
        "issued_at": event["issued_at"],
        "at": event["event_created_at"],
    }


def activation_view(activation: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    return {
        "id": activation["id"],
        "status": activation["status"],
        "requester_cpf": activation["requester_id"],
        "company_cnpj": activation["company_id"],
        "decided_by": activation["decided_by_id"],
        "reason": activation["reason"],
        "created_at": activation["created_at"],
        "updated_at": activation["updated_at"],
        "href": f"{base_url}/activations/{activation['id']}",
    }

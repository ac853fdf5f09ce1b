"""SQL that the API and the workers both run, kept in one place so both ask the same question."""

from __future__ import annotations

# Which of the given (requester, company) pairs have a pending activation: one probe each of
# the one-pending-per-company index, however many other companies a requester waits on.
PENDING_PAIRS = """
SELECT p.requester_id, p.company_id
FROM unnest($1::text[], $2::text[]) AS p(requester_id, company_id)
WHERE EXISTS (SELECT 1 FROM activations a
              WHERE a.requester_id = p.requester_id AND a.company_id = p.company_id AND a.status = 'pending')
"""

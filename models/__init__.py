"""Domain: ORM entities, the state machine, message schemas and identifiers."""

"""Background processes: command workers, the notifier, the SMTP sink and their pool."""

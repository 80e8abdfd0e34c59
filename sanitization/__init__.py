"""Payload screening: personal data and secrets found and masked (Presidio + secret rules)."""

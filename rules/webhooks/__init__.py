"""Webhooks: endpoints that follow segments, and signed, retried delivery of
their membership changes (docs/webhooks.md)."""

"""Signed webhooks (Standard Webhooks): endpoints, an outbox of deliveries, and their sending."""

"""Wearable samples: ingestion, reads, hourly rollups and the Apple Health importer."""

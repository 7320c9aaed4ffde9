"""Uploaded Apple Health exports, imported in the background job queue."""

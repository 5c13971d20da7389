"""Declared input schemas (pydantic v2), shared by the API and the web forms' server-side checks."""

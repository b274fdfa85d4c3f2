"""Pydantic shapes of the API: requests are strict (unknown fields rejected), responses are explicit."""

"""API Gateway's CORS for the local runtime, from the HttpApi's CorsConfiguration in template.yaml.

As API Gateway does once CORS is configured: an answer to an allowed origin carries the configured
headers whatever the function returned (a function's own CORS headers are dropped), and a preflight
also gets the allowed methods, headers and max age. Off unless origins are given
(`CORS_ALLOWED_ORIGINS`, the stack's `CorsAllowedOrigins`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from devserver import template


@dataclass(frozen=True)
class Cors:
    origins: frozenset[str]
    methods: str
    headers: str
    expose: str
    max_age: str

    @classmethod
    def from_template(cls, origins: str) -> Cors | None:
        """The template's configuration for these comma-separated origins; None (no CORS) for none."""
        if not origins:
            return None
        config = template.load()["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]["Fn::If"][1]
        return cls(
            origins=frozenset(origins.split(",")),
            methods=",".join(config["AllowMethods"]),
            headers=",".join(config["AllowHeaders"]),
            expose=",".join(config.get("ExposeHeaders", [])),
            max_age=str(config.get("MaxAge", 0)),
        )

    def apply(self, method: str, request: Mapping[str, str], response: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The response headers as API Gateway sends them; `request` has lower-case names."""
        kept = [(name, value) for name, value in response if not name.lower().startswith("access-control-")]
        origin = request.get("origin", "")
        if origin not in self.origins:
            return kept
        added = [("access-control-allow-origin", origin), ("vary", "origin")]
        if method == "OPTIONS" and "access-control-request-method" in request:
            added += [
                ("access-control-allow-methods", self.methods),
                ("access-control-allow-headers", self.headers),
                ("access-control-max-age", self.max_age),
            ]
        elif self.expose:
            added.append(("access-control-expose-headers", self.expose))
        return kept + added

"""The web application: one Flask server carrying the Dash pages and the form routes."""

from __future__ import annotations

from flask import Flask

from klik.wiring import Container


def create_app(container: Container) -> Flask:
    """Build the web application for ``container`` (app factory; nothing global)."""
    server = Flask(__name__)
    server.config["SECRET_KEY"] = container.settings.secret_key
    server.extensions["klik"] = container

    @server.get("/")
    def index() -> str:
        return "<!doctype html><html lang='nl'><title>Klik</title><h1>Klik</h1><p>Klik draait.</p>"

    @server.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return server

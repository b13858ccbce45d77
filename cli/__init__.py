"""Command-line interface: ``python main.py <subcommand> ...`` (Qt-free)."""

from .app import build_parser, main

__all__ = ["build_parser", "main"]

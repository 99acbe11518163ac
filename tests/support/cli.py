"""The administrators' commands (``smscat report``, ``erase``, ``handoff``…) run in-process,
through their own parser and handlers, as tests call them."""

from __future__ import annotations

import argparse

from smscat.relay.daemon.admin_cli import add_commands


def smscat(*argv: str) -> int:
    """``smscat <argv>`` through the admin commands' own parser and handlers; its exit code."""
    parser = argparse.ArgumentParser(prog="smscat")
    handlers = add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return handlers[args.command](args)

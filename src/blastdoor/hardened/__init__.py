"""Hardened mode: Blastdoor's home owned by its own OS user, served by a daemon on a Unix socket.

``layout`` says where it lives (``/etc/blastdoor/system.toml``), ``install`` sets it up (as root),
``ops`` answers what callers ask the daemon besides hook calls, identifying each by the socket's
peer credentials, and ``client`` is the asking side (the CLI of agents and of approvers).
"""

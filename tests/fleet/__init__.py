"""The simulated Docker fleet of the molecule scenarios and the demo (tests only).

Debian test hosts (debootstrap, cached) run in mount, UTS and PID namespaces with their own sshd on
127.0.0.1:<port>; a local apt repository holds stand-in ``docker-engine`` packages 1.9.1 and 1.10.3
(``standin_engine``: a Python program, not Docker); each host gets a Docker 1.9 store built from real
tar layers by ``tools/legacy_graph.py``. See docs/fleet.md and ``python -m tests.fleet --help``.
"""

"""uvicorn's HTTP protocol with TCP_NODELAY set on every connection.

With ``--workers`` above 1, uvicorn binds the listening socket itself (``socket.socket``
with protocol number 0) and hands it to the worker processes. asyncio sets TCP_NODELAY
only on sockets whose protocol is IPPROTO_TCP, so the accepted connections keep Nagle's
algorithm on, and every keep-alive response then waits for the client's delayed ACK:
44 ms per request here, health checks included. Setting the option on each connection
fixes it whatever the worker count.

The base is uvicorn's httptools protocol when httptools is installed (the ``serve``
extra installs it; it parses HTTP in C), else its pure-Python h11 protocol.
"""

from __future__ import annotations

import socket

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # httptools missing: uvicorn's own fallback
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Base


class NoDelayHttpProtocol(_Base):
    def connection_made(self, transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # the peer already left; uvicorn handles the closed connection
                pass
        super().connection_made(transport)

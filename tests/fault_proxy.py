"""A small TCP proxy for fault injection: put it between the service and a dependency (DynamoDB
Local) and switch what it does to new and open connections at any time.

Modes:
- pass:  forward bytes both ways
- stall: accept connections and never answer (a hung process: reads wait for the read timeout)
- slow:  forward, but hold each chunk from the upstream for `delay` seconds first
- reset: accept, then reset the connection at once (RST: the process crashed)
- close: accept, then close the connection cleanly without answering (a dropped keep-alive)

With no upstream (upstream=None) only stall, reset and close make sense: the proxy is then a
stand-in for a dependency that misbehaves. Every thread and socket it opens is closed by stop().
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from typing import Literal

Mode = Literal["pass", "stall", "slow", "reset", "close"]


class FaultProxy:
    def __init__(
        self, upstream: tuple[str, int] | None = None, mode: Mode = "pass", delay: float = 0.5
    ) -> None:
        self.upstream = upstream
        self.mode: Mode = mode
        self.delay = delay
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.accepted = 0
        self._acceptor = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._acceptor.start()
        return self

    def set_mode(self, mode: Mode, drop_open: bool = True) -> None:
        """Switch mode; with drop_open, connections already open are cut so that pooled
        keep-alive connections cannot bypass the new mode."""
        self.mode = mode
        if drop_open:
            self._drop_all()

    def stop(self) -> None:
        self._stopping.set()
        self._drop_all()
        self._acceptor.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- internals -----------------------------------------------------------------------------

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.close()

    def _drop_all(self) -> None:
        with self._lock:
            open_sockets = list(self._sockets)
            self._sockets.clear()
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            mode = self.mode
            if mode == "reset":
                # SO_LINGER with a zero timeout turns close() into a RST.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                continue
            if mode == "close":
                client.close()
                continue
            self._track(client)
            if mode == "stall" or self.upstream is None:
                continue  # held open, never read from, never answered; closed by stop()
            thread = threading.Thread(target=self._relay, args=(client,), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()

    def _relay(self, client: socket.socket) -> None:
        assert self.upstream is not None
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            self._forget(client)
            return
        self._track(upstream)
        pair = {client: upstream, upstream: client}
        try:
            while not self._stopping.is_set():
                if self.mode == "stall":
                    time.sleep(0.05)  # switched to stall mid-connection: stop relaying
                    continue
                readable, _, _ = select.select(list(pair), [], [], 0.2)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is upstream and self.mode == "slow":
                        time.sleep(self.delay)
                    pair[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            self._forget(client)
            self._forget(upstream)

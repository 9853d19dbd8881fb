"""The limits every download runs under: a total deadline, where it may connect, bounded decoding.

* **A deadline for the whole download.** A per-read timeout alone lets a server
  that sends one byte every few seconds (in its headers or its body) hold a
  refresh, and the store's lock, for as long as it likes. Here every connect,
  read and write of the connection waits at most until the download's deadline,
  so such a server is cut off on time.
* **Where a download may connect.** A redirect (or a host name that resolves
  differently the second time) must not lead a download into the machine's own
  or its network's services: a connection to a loopback, private, link-local or
  otherwise non-public address is refused, unless the manifest's own URL is on
  such a network. The check is made on the address actually connected to, after
  name resolution, and again whenever a pooled connection is reused.
* **Bounded decoding.** ``gzip`` and ``deflate`` bodies are decoded in pieces of at
  most ``CHUNK`` bytes (zlib's ``max_length``), so a small compressed body (a
  "gzip bomb") never expands in memory past one piece before the size cap sees it.

The deadline and the address policy of the download running in a thread are
thread-local (``limits``): the fetcher runs one download per thread, and the
connection pool is shared.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from policylens.errors import FetchError

AddressKind = Callable[[str], "str | None"]


def non_public(address: str) -> str | None:
    """What kind of non-public address ``address`` (an IP literal) is, or ``None`` if it is public.

    >>> [non_public(a) for a in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "::ffff:127.0.0.1")]
    ['loopback', 'private', 'link-local', 'loopback']
    >>> non_public("0.0.0.0"), non_public("100.64.0.1"), non_public("93.184.215.14")
    ('unspecified', 'non-public', None)
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") is no part of it
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, flag in (("loopback", ip.is_loopback), ("unspecified", ip.is_unspecified),
                       ("link-local", ip.is_link_local), ("private", ip.is_private),
                       ("multicast", ip.is_multicast)):
        if flag:
            return kind
    return None if ip.is_global else "non-public"


class AddressRefused(FetchError):
    """A connection would reach a non-public address the download may not enter (never retried)."""


@dataclass
class Limits:
    """The limits of the download running in this thread (see ``limits``)."""

    deadline: float  # time.monotonic() by which the whole download must be done
    allow_internal: bool = False  # the manifest's own URL is on a non-public network
    expired: bool = False  # set when a wait was cut short by the deadline

    def left(self) -> float:
        return self.deadline - time.monotonic()


_current = threading.local()


@contextmanager
def limits(deadline: float, *, allow_internal: bool = False) -> Iterator[Limits]:
    """Run the downloads of this thread under ``Limits`` until the block ends."""
    state = Limits(deadline=deadline, allow_internal=allow_internal)
    _current.limits = state
    try:
        yield state
    finally:
        _current.limits = None


def _active() -> Limits | None:
    return getattr(_current, "limits", None)


def _bounded(timeout: float | None, error: type[Exception]) -> tuple[float | None, bool]:
    """``timeout`` cut to the time left before the deadline; whether the deadline is what bounds it."""
    state = _active()
    if state is None:
        return timeout, False
    left = state.left()
    if left <= 0:
        state.expired = True
        raise error("the download's deadline passed")
    if timeout is None or left < timeout:
        return left, True
    return timeout, False


def resolve(host: str, port: int) -> list[str]:
    """The IP addresses ``host`` resolves to (an IP literal resolves to itself, without DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@contextmanager
def _waiting(by_deadline: bool) -> Iterator[None]:
    """Note a timeout that the deadline caused (so the fetcher says so and does not retry)."""
    try:
        yield
    except httpcore.TimeoutException:
        state = _active()
        if by_deadline and state is not None:
            state.expired = True
        raise


class _GuardedStream(httpcore.NetworkStream):
    """A connection whose waits end at the deadline and whose reuse is checked against the policy."""

    def __init__(self, inner: httpcore.NetworkStream, where: str, kind: str | None) -> None:
        self._inner, self._where, self._kind = inner, where, kind

    def _check(self) -> None:
        state = _active()
        if state is not None and self._kind is not None and not state.allow_internal:
            raise AddressRefused(_refusal(self._where, self._kind))  # a pooled connection, reused

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._check()
        bounded, by_deadline = _bounded(timeout, httpcore.ReadTimeout)
        with _waiting(by_deadline):
            return self._inner.read(max_bytes, bounded)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._check()
        bounded, by_deadline = _bounded(timeout, httpcore.WriteTimeout)
        with _waiting(by_deadline):
            self._inner.write(buffer, bounded)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        bounded, by_deadline = _bounded(timeout, httpcore.ConnectTimeout)
        with _waiting(by_deadline):
            inner = self._inner.start_tls(ssl_context, server_hostname, bounded)
        return _GuardedStream(inner, self._where, self._kind)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Plain sockets, connected only to addresses the running download may reach."""

    def __init__(self, address_kind: AddressKind = non_public) -> None:
        self._sockets = httpcore.SyncBackend()
        self._address_kind = address_kind

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        state = _active()
        kinds = {address: self._address_kind(address) for address in addresses}
        if state is not None and not state.allow_internal:
            for address, kind in kinds.items():
                if kind is not None:  # refuse the name, not just this address: it may round-robin
                    raise AddressRefused(_refusal(f"{host} ({address})" if host != address else host, kind))
        error: Exception = httpcore.ConnectError(f"{host} resolves to no address")
        for address in addresses:  # connect to the very address checked: no second lookup to race
            bounded, by_deadline = _bounded(timeout, httpcore.ConnectTimeout)
            try:
                with _waiting(by_deadline):
                    inner = self._sockets.connect_tcp(address, port, bounded, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
                continue
            where = f"{host} ({address})" if host != address else host
            return _GuardedStream(inner, where, kinds[address])
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise AddressRefused("downloads do not connect to Unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _refusal(where: str, kind: str) -> str:
    return (f"{where} is a {kind} address; a download may only reach loopback, private or link-local "
            "networks when the manifest's own URL is on one")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport over a connection pool that uses ``GuardedBackend``."""

    def __init__(self, *, max_connections: int, address_kind: AddressKind = non_public) -> None:
        pool = httpx.Limits(max_connections=max_connections)
        super().__init__(limits=pool)
        # httpx.HTTPTransport takes no network backend, so its pool is replaced by an
        # identical one (same TLS settings and limits) that has ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), max_connections=pool.max_connections,
            max_keepalive_connections=pool.max_keepalive_connections,
            keepalive_expiry=pool.keepalive_expiry, network_backend=GuardedBackend(address_kind))


class BoundedDecoder:
    """Decodes a ``Content-Encoding`` (identity, gzip, deflate) in pieces of at most ``piece`` bytes.

    >>> import gzip
    >>> decoder = BoundedDecoder("gzip", piece=4)
    >>> [*decoder.decode(gzip.compress(b"0123456789")), *decoder.flush()]
    [b'0123', b'4567', b'89']
    """

    def __init__(self, encoding: str | None, *, piece: int) -> None:
        name = (encoding or "identity").strip().lower()
        self.piece = piece
        self._raw_fallback = False  # 'deflate' is zlib-wrapped by the RFC, raw by some servers
        if name in ("", "identity"):
            self._zlib = None
        elif name in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif name == "deflate":
            self._zlib = zlib.decompressobj()
            self._raw_fallback = True
        else:
            raise FetchError(f"the server sent an unsupported Content-Encoding {encoding!r} "
                             "(policylens asks for gzip or deflate)")

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            if data:
                yield data
            return
        pending = data
        while True:
            try:
                piece = self._zlib.decompress(pending, self.piece)
            except zlib.error as exc:
                if self._raw_fallback:  # the first bytes were not zlib-wrapped: read them raw
                    self._raw_fallback = False
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    yield from self.decode(data)
                    return
                raise FetchError(f"the server sent corrupt compressed data ({exc})") from None
            self._raw_fallback = False
            pending = self._zlib.unconsumed_tail
            if piece:
                yield piece
            if not pending and len(piece) < self.piece:  # a full piece may have more behind it
                return

    def flush(self) -> Iterator[bytes]:
        """What is left once the body has ended."""
        if self._zlib is not None:
            yield from self.decode(b"")
            rest = self._zlib.flush()
            if rest:
                yield rest

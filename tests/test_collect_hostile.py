"""The collector's HTTP client against a hostile (or merely odd) server on 127.0.0.1: answers that
shift onto the next request (an interim 1xx answer, bytes sent after an answer), answers that never
end before their body (endless 1xx, a trickled head, an endless chunked trailer), and names that
are not names. The server is a raw socket speaking scripted bytes, so nothing is tidied on the way."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterator

import pytest

from scoring.collect import archive
from scoring.collect.fetch import AddressRefused, Capture, CollectSettings, Crawler, resolve

# a script: the request's path → the pieces to send (bytes; a float: a pause of that many seconds; None: close)
Script = Callable[[str], Iterator[bytes | float | None]]


def ok(body: bytes, extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


class RawServer:
    """Reads each request's head on a kept-alive connection and sends what the script gives."""

    def __init__(self, script: Script, tls: ssl.SSLContext | None = None):
        self.script, self.seen, self.tls, self.connections = script, [], tls, 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by close()
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        self.connections += 1
        data = b""
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            while not self.stop.is_set():
                while b"\r\n\r\n" not in data:
                    more = conn.recv(65536)
                    if not more:
                        return
                    data += more
                head, data = data.split(b"\r\n\r\n", 1)
                path = head.split(b" ")[1].decode()
                self.seen.append(path)
                for piece in self.script(path):
                    if self.stop.is_set():
                        return
                    if piece is None:  # the server closes the connection
                        return
                    if isinstance(piece, float):
                        time.sleep(piece)
                    else:
                        conn.sendall(piece)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def body(cap) -> bytes:
    assert cap.response is not None, cap.error
    return archive.payload(cap.response.data)[1]


def crawler(port: int, **settings) -> Crawler:
    return Crawler(f"http://127.0.0.1:{port}/", set(),
                   settings=CollectSettings(allow_private=True, retries=0, **settings), rate=0)


def test_an_interim_1xx_answer_is_not_the_answer_and_does_not_shift_the_next():
    """A 103 Early Hints before the page's 200: http.client skips only a 100, so the 103 was taken
    for the answer (an empty one) and the 200 left on the connection became the next URL's."""
    def script(path: str) -> Iterator[bytes | float]:
        if path == "/a":
            yield b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
            yield ok(b"AAAAA")
        else:
            yield ok(b"BBBBB")

    server = RawServer(script)
    try:
        c = crawler(server.port, timeout=2)
        a, b = c.fetch(f"http://127.0.0.1:{server.port}/a"), c.fetch(f"http://127.0.0.1:{server.port}/b")
        c.close()
    finally:
        server.close()
    assert (a.status, body(a)) == (200, b"AAAAA")
    assert (b.status, body(b)) == (200, b"BBBBB")


@pytest.fixture
def tls_site(tmp_path, monkeypatch):
    """https://pinned.example.gov.cn (a certificate for it, the name answered with 127.0.0.1)."""
    from scoring.collect import fetch

    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    name = "pinned.example.gov.cn"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"],
                   check=True, capture_output=True)
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)

    def getaddrinfo(host, at, *args, **kwargs):
        assert host in (name, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", at))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(fetch, "_tls", lambda: ssl.create_default_context(cafile=str(cert)))
    return name, served


def _two(script: Script, tls_site=None, pause: float = 0.5) -> tuple[RawServer, Capture, Capture]:
    name, served = tls_site or ("127.0.0.1", None)
    server = RawServer(script, served)
    site = f"{'https' if served else 'http'}://{name}:{server.port}/"
    try:
        c = Crawler(site, set(), settings=CollectSettings(allow_private=True, retries=0, timeout=2), rate=0)
        a = c.fetch(site + "a")
        time.sleep(pause)
        b = c.fetch(site + "b")
        c.close()
    finally:
        server.close()
    return server, a, b


def _answer_then_another(path: str) -> Iterator[bytes | float]:
    if path == "/a":
        yield ok(b"AAAAA")
        yield 0.2
        yield ok(b"EVIL!")
    else:
        yield ok(b"BBBBB")


def _answers(path: str) -> Iterator[bytes | float]:
    yield ok(path.encode() * 3)


def test_bytes_sent_after_an_answer_are_not_the_next_urls_answer():
    """An answer, then (unasked) a second one on the kept-alive connection: the next URL's request
    took it for its own (the request sent ahead in a crawl goes out on the same connection)."""
    server, a, b = _two(_answer_then_another)
    assert body(a) == b"AAAAA"
    assert (b.status, body(b)) == (200, b"BBBBB") and server.connections == 2


def test_bytes_sent_after_an_answer_over_tls_are_not_the_next_urls_answer(tls_site):
    server, a, b = _two(_answer_then_another, tls_site)
    assert body(a) == b"AAAAA"
    assert (b.status, body(b)) == (200, b"BBBBB") and server.connections == 2


@pytest.mark.parametrize("tls", [False, True])
def test_a_quiet_kept_alive_connection_is_still_kept(tls, request):
    """What held: a connection with nothing unasked on it serves the next request (over TLS too,
    where the server's session tickets arrive after the handshake: TLS's own, not an answer)."""
    server, a, b = _two(_answers, request.getfixturevalue("tls_site") if tls else None)
    assert (body(a), body(b)) == (b"/a/a/a", b"/b/b/b") and server.connections == 1


def _endless_continue(path: str) -> Iterator[bytes | float]:
    for _ in range(200):
        yield b"HTTP/1.1 100 Continue\r\n\r\n"
        yield 0.05


def _trickled_head(path: str) -> Iterator[bytes | float]:
    yield b"HTTP/1.1 200 OK\r\nX-Slow: "
    for _ in range(200):
        yield b"a"
        yield 0.05


def _endless_trailer(path: str) -> Iterator[bytes | float]:
    yield b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
    for _ in range(200):
        yield b"X-Trailer: y\r\n"
        yield 0.05


@pytest.mark.parametrize("script", [_endless_continue, _trickled_head, _endless_trailer])
def test_an_answer_that_never_ends_before_its_body_is_cut(script):
    """Bytes that keep coming, each within the timeout, before the body or after its last chunk
    (endless 100 Continue answers, a header trickled a byte at a time, an endless chunked trailer):
    read by http.client beyond the crawl's four-timeout cut of a body, they held the crawl as long
    as the server liked (here 10 s; a real one: for ever)."""
    server = RawServer(script)
    try:
        c = crawler(server.port, timeout=0.25)
        start = time.monotonic()
        cap = c.fetch(f"http://127.0.0.1:{server.port}/a")
        took = time.monotonic() - start
        c.close()
    finally:
        server.close()
    assert took < 3.0
    assert cap.error in ("still answering after 1.25 s: cut", "HTTPException: more than 20 interim (1xx) answers")


def test_a_robots_redirect_to_a_name_that_is_not_one_is_refused_not_a_crash(monkeypatch):
    """robots.txt may redirect to any host (RFC 9309): one whose name cannot be encoded (a label
    over 63 characters, an empty label) made the lookup raise UnicodeError, which ended the crawl."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # 127.0.0.1 only; any other name fails as DNS would
        if host == "127.0.0.1":
            return real(host, port, *args, **kwargs)
        host.encode("idna")  # what the real one does first (and raises on)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    for bad in ("a" * 64 + ".example.gov.cn", "a..example.gov.cn"):
        def script(path: str, bad: str = bad) -> Iterator[bytes | float]:
            if path == "/robots.txt":
                yield f"HTTP/1.1 301 Moved\r\nLocation: http://{bad}/robots.txt\r\nContent-Length: 0\r\n\r\n".encode()
            else:
                yield ok(b"<html>page</html>", "Content-Type: text/html\r\n")

        server = RawServer(script)
        try:
            c = crawler(server.port, timeout=2)
            caps = c._robots_capture(f"http://127.0.0.1:{server.port}/")
            page = c.fetch(f"http://127.0.0.1:{server.port}/p")
            c.close()
        finally:
            server.close()
        assert len(caps) == 2 and "not a host name" in caps[1].error
        assert page.status == 200


@pytest.mark.parametrize("address", [
    "100.100.100.200",           # Alibaba Cloud's metadata service, in the shared space 100.64.0.0/10 (not "private")
    "100.64.0.1",
    "::ffff:100.100.100.200",    # the same, IPv4-mapped
    "64:ff9b::6464:64c8",        # the same, through a NAT64 gateway
    "2002:a9fe:a9fe::1",         # 6to4 of 169.254.169.254
    "2002:7f00:1::1",            # 6to4 of 127.0.0.1
    "fec0::1",                   # IPv6 site-local
])
def test_addresses_that_are_not_public_but_not_named_private_are_refused(address):
    """The guard asked loopback, private, link-local, reserved, multicast, unspecified: addresses
    outside those and still not public (a cloud's metadata service among them) passed. An address
    literal, as a site or a page's link may name: getaddrinfo answers it without a lookup."""
    with pytest.raises(AddressRefused, match="address: refused"):
        resolve(address, 80, allow_private=False)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "2002:5db8:d70e::1"])
def test_public_addresses_pass(address):
    assert resolve(address, 80, allow_private=False) == address


def _folded_cookie(path: str) -> Iterator[bytes | float]:
    if path == "/a":  # a header folded onto the cookie's line (obs-fold): the value keeps CR LF TAB
        yield b"HTTP/1.1 200 OK\r\nSet-Cookie: s=1\r\n\tX-Injected: yes\r\nSet-Cookie: t=2\r\nContent-Length: 2\r\n\r\nok"
    else:
        yield ok(b"ok")


def test_a_folded_set_cookie_is_not_written_back_onto_the_wire():
    """A hostile Set-Cookie folded over two lines came back in the next request's Cookie header with
    its CR LF: a header line of the site's choosing in what the crawl sends (and archives)."""
    server = RawServer(_folded_cookie)
    try:
        c = crawler(server.port, timeout=2)
        c.fetch(f"http://127.0.0.1:{server.port}/a")
        b = c.fetch(f"http://127.0.0.1:{server.port}/b")
        c.close()
    finally:
        server.close()
    assert b.request is not None
    sent = dict(archive_request_head(b.request.data))
    assert sent.get("Cookie") == "t=2"  # the clean cookie still goes back; the folded one does not
    assert b"X-Injected" not in zlib.decompress(b.request.data, 47)


def archive_request_head(data: bytes) -> list[tuple[str, str]]:
    text = zlib.decompress(data, 47).split(b"\r\n\r\n")[1].decode()
    return [tuple(line.split(": ", 1)) for line in text.split("\r\n")[1:] if ": " in line]  # type: ignore[misc]


def test_an_http_1_0_answer_is_archived_as_one():
    """The response record is what was received: an HTTP/1.0 status line was archived as HTTP/1.1."""
    server = RawServer(lambda path: iter([b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nold", None]))
    try:
        c = crawler(server.port, timeout=2)
        cap = c.fetch(f"http://127.0.0.1:{server.port}/a")
        c.close()
    finally:
        server.close()
    assert cap.response is not None and body(cap) == b"old"
    assert b"\r\n\r\nHTTP/1.0 200 OK\r\n" in zlib.decompress(cap.response.data, 47)


def _site(path: str) -> Iterator[bytes | float | None]:
    if path == "/robots.txt":
        yield b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    elif path == "/":
        yield ok(b'<html><body><a href="/a">a</a><a href="/b">b</a></body></html>', "Content-Type: text/html\r\n")
    else:
        yield ok(f"<html><body>{path}</body></html>".encode(), "Content-Type: text/html\r\n")


def test_a_crawl_stopped_with_a_request_sent_ahead_leaves_no_answer_behind():
    """What held: the consumer stops the crawl while the next URL's request is on its way (sent
    before the page in hand was read); the crawler's next fetch gets its own answer, not that one."""
    server = RawServer(_site)
    try:
        c = crawler(server.port, timeout=2)
        crawl = c.run()
        got = [next(crawl).url for _ in range(3)]  # robots.txt, /, /a: /b's request sent ahead while /a is read
        crawl.close()
        cap = c.fetch(f"http://127.0.0.1:{server.port}/c")
        c.close()
    finally:
        server.close()
    assert [g.rsplit("/", 1)[1] for g in got] == ["robots.txt", "", "a"]
    assert "/b" in server.seen and body(cap) == b"<html><body>/c</body></html>"


def _many_headers(path: str) -> Iterator[bytes | float | None]:
    yield b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 200_000 + b"Content-Length: 2\r\n\r\nok"


def _long_status_line(path: str) -> Iterator[bytes | float | None]:
    yield b"HTTP/1.1 200 " + b"O" * 1_000_000 + b"\r\nContent-Length: 2\r\n\r\nok"


def _long_header(path: str) -> Iterator[bytes | float | None]:
    yield b"HTTP/1.1 200 OK\r\nX-A: " + b"b" * 1_000_000 + b"\r\nContent-Length: 2\r\n\r\nok"


def _chunked_forever(path: str) -> Iterator[bytes | float | None]:
    yield b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n"
    for _ in range(100):
        yield b"8000\r\n" + b"x" * 0x8000 + b"\r\n"


@pytest.mark.parametrize("script,error", [
    (_many_headers, "got more than 100 headers"),
    (_long_status_line, "LineTooLong"),
    (_long_header, "LineTooLong"),
    (_chunked_forever, "larger than the size cap of 100000 bytes: truncated"),
])
def test_heads_and_chunked_bodies_are_bounded(script, error):
    """What held: http.client's limits on a head (100 headers, 64 KB a line) and the size cap on a
    chunked body (it has no length to refuse up front)."""
    server = RawServer(script)
    try:
        c = crawler(server.port, timeout=2, max_bytes=100_000)
        cap = c.fetch(f"http://127.0.0.1:{server.port}/a")
        c.close()
    finally:
        server.close()
    assert error in cap.error
    assert cap.size <= 100_000 + 65536

"""Full-page screenshots of the pages a crawl proposes (`collect crawl --screenshots`): the system's
chromium driven by Playwright, headless, one browser and one page for the whole crawl, 15 s a page.
The page's scripts run (many sites draw their text with them), but every request the browser makes
passes the crawl's own rules first — only http(s) of the site's hosts, at addresses checked public
(unless allowed) — and the browser's name lookups are pinned to the addresses the crawl checked
(`--host-resolver-rules`; every other name, IP literals included, resolves to nothing), so a name
that answers differently the second time reaches nothing new, and a server redirect (which the
route handler does not see: Playwright routes a chain's first request only) reaches only a site
host. WebSockets, service workers and downloads are refused outright."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scoring.errors import GongkaiError

WIDTH, HEIGHT = 1280, 800
INSTALL = "pip install 'gongkai[screenshots]'"


@dataclass(frozen=True)
class Shot:
    """A page's screenshot (PNG bytes) or why there is none."""

    url: str
    at: dt.datetime
    png: bytes = b""
    error: str = ""


def resolver_rules(addresses: dict[str, str]) -> str:
    """Chromium's `--host-resolver-rules`: each checked name to its checked address, a site host that
    is an IP literal as itself, any other name to nothing (the route check refuses other hosts anyway)."""
    def bracket(ip: str) -> str:
        return f"[{ip}]" if ":" in ip else ip

    def ascii_name(host: str) -> str:  # 政府.中国 → xn--mxtq1m.xn--fiqs8s, as chromium compares names
        return host if host.isascii() else host.encode("idna").decode("ascii")

    rules = [f"MAP {ascii_name(host)} {bracket(ip)}" if host != ip else f"EXCLUDE {bracket(ip)}"
             for host, ip in sorted(addresses.items())]
    return ", ".join([*rules, "MAP * ~NOTFOUND"])


@dataclass
class Screenshots:
    """One headless chromium for a crawl's screenshots; `refusal(url)` says why a request may not go."""

    executable: str
    refusal: Callable[[str], str]
    addresses: dict[str, str]
    user_agent: str
    timeout: float = 15.0
    rate: float = 1.0
    blocked: list[str] = field(default_factory=list)
    _last: float = 0.0
    _left: str = ""  # where the page's scripts tried to send it, refused

    def __enter__(self) -> Screenshots:
        try:
            from playwright.sync_api import Error, sync_playwright
        except ImportError:
            raise GongkaiError(f"--screenshots needs Playwright, which is not installed: {INSTALL}") from None
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=self.executable, headless=True,
                args=["--no-proxy-server", f"--host-resolver-rules={resolver_rules(self.addresses)}",
                      # WebRTC's UDP (a STUN server at an IP literal) passes neither the route handler nor the
                      # resolver rules: no UDP but through a proxy, and there is none
                      "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
                      "--webrtc-ip-handling-policy=disable_non_proxied_udp"])
        except Error as e:
            self._pw.stop()
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise GongkaiError(f"--screenshots: the browser {self.executable} did not start ({first})") from None
        context = self._browser.new_context(
            viewport={"width": WIDTH, "height": HEIGHT}, user_agent=self.user_agent, service_workers="block",
            accept_downloads=False, locale="zh-CN")
        # and the page's scripts find no WebRTC to start
        context.add_init_script("for (const k of ['RTCPeerConnection', 'webkitRTCPeerConnection', 'RTCDataChannel',"
                                " 'RTCIceTransport']) { try { delete window[k]; window[k] = undefined; } catch (e) {} }")
        context.route("**/*", self._route)
        context.route_web_socket("**/*", self._socket)
        self._page = context.new_page()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._browser.close()
        finally:
            self._pw.stop()

    def _route(self, route: Any) -> None:
        request = route.request
        reason = self.refusal(request.url)
        if not reason:
            route.continue_()
            return
        self.blocked.append(f"{request.url}: {reason}")
        if request.is_navigation_request() and request.frame.parent_frame is None:
            self._left = request.url
        route.abort("blockedbyclient")

    def _socket(self, ws: Any) -> None:
        self.blocked.append(f"{ws.url}: a WebSocket")
        ws.close()  # never connected to a server

    def take(self, url: str) -> Shot:
        """The full-page PNG of `url` (the window 1280 px wide), or the error that stopped it."""
        from playwright.sync_api import Error

        if self.rate > 0:
            pause = self._last + 1 / self.rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        self._last = time.monotonic()
        at = dt.datetime.now(dt.UTC)
        deadline = time.monotonic() + self.timeout
        self._left = ""
        try:
            self._page.goto(url, wait_until="load", timeout=self.timeout * 1000)
            if self._left or self._page.url.startswith("chrome-error:"):
                # a script sent the page elsewhere: what the browser shows is its error page, not the page
                self._page.goto("about:blank")
                return Shot(url, at, error=f"screenshot failed: the page went on to a refused address ({self._left[:200]})")
            left = max(1.0, deadline - time.monotonic())
            png = self._page.screenshot(full_page=True, type="png", animations="disabled", timeout=left * 1000)
        except Error as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            if "Timeout" in type(e).__name__ or "Timeout" in first:
                first = f"not rendered within {self.timeout:g} s"
            with contextlib.suppress(Error):
                self._page.goto("about:blank")
            return Shot(url, at, error=f"screenshot failed: {first}")
        return Shot(url, at, png=png)

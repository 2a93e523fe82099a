"""The web collector end to end on the synthetic fixture site, served on 127.0.0.1 only: proposals
recover the site's truth (recall and precision on obligation × period, exact dates), robots.txt and
the traps are respected (the server's request log), every capture verifies and a flipped byte is
named, accepted proposals score exactly like the same rows imported, and the refusals (a firm's
unassigned body, a private address without the allow setting, a bad row) say what they refuse."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import Session

from scoring.collect import archive
from scoring.collect.match import COLUMNS
from scoring.store import collect as stored
from scoring.store.attachments import LocalStore
from scoring.store.db import engine_for
from scoring.synthetic.site import SiteServer, write_site
from tests.cli import clean_env, gongkai
from tests.conftest import SCHEME_2017

FAST = {"GONGKAI_COLLECT_ALLOW_PRIVATE": "1", "GONGKAI_COLLECT_TIMEOUT": "1", "GONGKAI_COLLECT_MAX_BYTES": "1000000"}


def env(**extra: str) -> dict[str, str]:
    return clean_env(**FAST, **extra)


@pytest.fixture(scope="module")
def scheme():
    from scoring.method.scheme import load_scheme

    return load_scheme(SCHEME_2017)


def serve(folder: Path) -> SiteServer:
    return SiteServer(folder).start()


def crawled(tmp: Path, scheme, body: str, seed: int, filler: int = 20) -> tuple[str, SiteServer, Path, int]:
    """A fixture site written, served and crawled into a new database: (db, server, site folder, crawl id)."""
    folder = tmp / f"site-{body}-{seed}"
    write_site(scheme, folder, body=body, seed=seed, filler=filler)
    server = serve(folder)
    db = f"sqlite:///{tmp / f'{body}-{seed}.db'}"
    assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=env()).returncode == 0
    r = gongkai("collect", "crawl", "--body", body, "--site", server.url, "--rate", "0", "--max-pages", "600",
                "--db", db, env=env())
    assert r.returncode == 0, r.stderr
    crawl_id = int(r.stdout.split()[1].rstrip(":"))
    return db, server, folder, crawl_id


def proposals(db: str, crawl_id: int) -> pd.DataFrame:
    r = gongkai("collect", "proposals", "--crawl", str(crawl_id), "--format", "csv", "--db", db, env=env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == ",".join(COLUMNS)
    return pd.read_csv(io.StringIO(r.stdout), dtype=str, keep_default_na=False)


def truth(folder: Path, server: SiteServer) -> pd.DataFrame:
    t = pd.read_csv(folder / "truth.csv", dtype=str, keep_default_na=False)
    return t.assign(url=server.url.rstrip("/") + t["url"])


@pytest.fixture(scope="module")
def tongji(tmp_path_factory, scheme):
    db, server, folder, crawl_id = crawled(tmp_path_factory.mktemp("tongji"), scheme, "tongji", 7)
    yield db, server, folder, crawl_id
    server.shutdown()


@pytest.mark.parametrize("body,seed", [("tongji", 7), ("tongji", 11), ("huanbao", 3), ("jinan", 5), ("minzheng", 2)])
def test_proposals_recover_the_truth(tmp_path, scheme, body, seed):
    db, server, folder, crawl_id = crawled(tmp_path, scheme, body, seed)
    try:
        got, want = proposals(db, crawl_id), truth(folder, server)
    finally:
        server.shutdown()
    found = set(zip(got["obligation"], got["period"], strict=True))
    expected = set(zip(want["obligation"], want["period"], strict=True))
    assert len(expected) >= 4
    recall, precision = len(found & expected) / len(expected), len(found & expected) / len(found)
    assert (recall, precision) >= (0.95, 0.95), (sorted(expected - found), sorted(found - expected))
    # every publication's date exactly, wherever it was shown (table, meta, label, list page, PDF link)
    dated = want.merge(got, on="url", how="left", suffixes=("", "_got"))
    assert dated["published_at_got"].tolist() == dated["published_at"].tolist()
    assert (dated["obligation_got"] == dated["obligation"]).all()
    assert set(got["body"]) == {body}
    assert got["capture"].str.fullmatch("[0-9a-f]{64}").all()
    assert ((got["confidence"].astype(float) > 0) & (got["confidence"].astype(float) <= 1)).all()


def test_a_publication_at_two_urls_is_two_sightings(tongji):
    db, server, folder, crawl_id = tongji
    want = truth(folder, server)
    twice = want[want.duplicated(["obligation", "period"], keep=False) & (want["period"] != "")]
    assert len(twice) >= 2  # the fixture publishes some items twice (seed 7)
    got = proposals(db, crawl_id)
    assert set(twice["url"]) <= set(got["url"])


def test_robots_txt_and_the_traps(tongji):
    db, server, _, crawl_id = tongji
    paths = [p for p, _ in server.requests]
    assert paths[0] == "/robots.txt"
    assert not [p for p in paths if p.startswith("/private/")]  # Disallow: /private/
    assert all(ua.startswith("gongkai-collector/") for _, ua in server.requests)
    assert paths.count("/loop/a.html") == 1 and paths.count("/loop/b.html") == 1  # no redirect loop
    assert 0 < sum(p.startswith("/calendar/") for p in paths) <= 30  # the endless calendar ends
    assert len(paths) == len(set(paths))  # every URL once
    with Session(engine_for(db)) as session:
        caps = {c.url.removeprefix(server.url.rstrip("/")): c for c in stored.captures(session, crawl_id=crawl_id)}
        crawl = stored.get_crawl(session, crawl_id=crawl_id)
        assert caps["/private/index.html"].note.startswith("robots.txt disallows it")
        assert caps["/old/index.html"].note == "redirect to another host, not followed: http://old-site.invalid/index.html"
        assert caps["/slow.html"].error == "no answer within 1 s"
        assert caps["/huge.html"].error == "larger than the size cap of 1000000 bytes: truncated"
        assert caps["/bomb.html"].error.startswith("decompresses beyond the size cap of 1000000 bytes")
        assert caps["/doc/report.html"].error == "a PDF served as text/html"
        assert caps["/art/missing-404.html"].error == "HTTP 404 Not Found"
        assert caps["/broken.html"].error == "" and caps["/broken.html"].title == "残缺页面"  # malformed HTML is read
        assert not [u for u in caps if "gov.cn" in u or u.startswith(("mailto", "ftp", "http"))]
        gbk = [c for c in caps.values() if c.kind == "html" and "国民经济运行情况" in c.title]
        assert gbk and all("\ufffd" not in c.text for c in gbk)
        assert crawl.errors == sum(c.error != "" for c in caps.values()) >= 6
        assert crawl.pages == sum(c.response_sha256 != "" for c in caps.values())
        assert json.loads(crawl.settings)["max_pages"] == 600


def index_of(db: str, crawl_id: int, store: LocalStore) -> list[dict]:
    """The entries of a stored crawl's CDXJ index."""
    with Session(engine_for(db)) as session:
        return archive.index_entries(store.get(stored.get_crawl(session, crawl_id=crawl_id).index_sha256))


def flip(store: LocalStore, sha256: str, at: int) -> None:
    path = store._path(sha256)
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_verify_names_a_flipped_byte(tmp_path, scheme):
    """A crawl's records are one WARC file in the store, each a gzip member the CDXJ index places (file,
    offset, length, the record's sha256): a byte flipped inside one is named by that record."""
    db, server, _, crawl_id = crawled(tmp_path, scheme, "tongji", 13, filler=5)
    server.shutdown()
    ok = gongkai("collect", "verify", str(crawl_id), "--db", db, env=env())
    assert ok.returncode == 0, ok.stderr
    checked = int(ok.stdout.split(": ")[1].split()[0])
    assert checked >= 2 * len(proposals(db, crawl_id))
    capture = proposals(db, crawl_id).iloc[0]
    store = LocalStore(tmp_path / "attachments")
    entries = index_of(db, crawl_id, store)
    assert len(entries) == checked and len({e["filename"] for e in entries}) == 1  # one WARC file
    assert not store.has(capture["capture"])  # no file per record
    entry = next(e for e in entries if e["record_sha256"] == capture["capture"])
    flip(store, entry["filename"], entry["offset"] + entry["length"] // 2)
    bad = gongkai("collect", "verify", str(crawl_id), "--db", db, env=env())
    assert bad.returncode == 1
    assert f"changed: response record of {capture['url']} ({capture['capture'][:12]}…)" in bad.stderr
    assert f"crawl {crawl_id}: 1 record of {checked} changed since the crawl" in bad.stderr
    flip(store, entry["filename"], entry["offset"] + entry["length"] // 2)   # as it was
    path = store._path(entry["filename"])
    path.write_bytes(path.read_bytes() + b"WARC/1.1\r\n")   # bytes after the last record change no record
    grown = gongkai("collect", "verify", str(crawl_id), "--db", db, env=env())
    assert grown.returncode == 1
    assert f"the crawl's WARC file {entry['filename'][:12]}…: bytes outside its records were added or changed" \
        in grown.stderr


def test_a_crawl_stored_a_file_per_record_still_verifies_and_accepts(tmp_path, scheme):
    """Crawls stored before the one WARC file per crawl (and the queued engine's) keep each record as a
    file of its own, named in the index by its sha256 at offset 0: verified and accepted as before."""
    db, server, _, crawl_id = crawled(tmp_path, scheme, "tongji", 13, filler=5)
    server.shutdown()
    store = LocalStore(tmp_path / "attachments")
    entries = index_of(db, crawl_id, store)
    for e in entries:  # the layout of before: a file per record, no record_sha256 in the index
        assert store.put(store.read(e["filename"], e["offset"], e["length"])) == e["record_sha256"]
    lines = [f"{e['key']} {e['timestamp']} " + json.dumps(
        {k: v for k, v in e.items() if k not in ("key", "timestamp", "record_sha256")} | {"filename": e["record_sha256"],
                                                                                          "offset": 0},
        ensure_ascii=False, sort_keys=True) for e in entries]
    store._path(entries[0]["filename"]).unlink()
    with Session(engine_for(db)) as session:
        stored.get_crawl(session, crawl_id=crawl_id).index_sha256 = store.put(archive.cdxj(lines))
        session.commit()
    ok = gongkai("collect", "verify", str(crawl_id), "--db", db, env=env())
    assert ok.returncode == 0 and f": {len(entries)} WARC records verified, all unchanged" in ok.stdout, ok.stderr
    capture = proposals(db, crawl_id).iloc[0]
    flip(store, capture["capture"], 40)
    bad = gongkai("collect", "verify", str(crawl_id), "--db", db, env=env())
    assert f"changed: response record of {capture['url']} ({capture['capture'][:12]}…)" in bad.stderr
    flip(store, capture["capture"], 40)
    acc = gongkai("collect", "accept", "--crawl", str(crawl_id), "--db", db, env=env())
    assert acc.returncode == 0, acc.stderr


def test_accepted_proposals_score_like_the_same_rows_imported(tmp_path, scheme):
    db, server, folder, crawl_id = crawled(tmp_path, scheme, "tongji", 7)
    want = truth(folder, server)
    server.shutdown()
    before = gongkai("score", "--level", "obligation", "--format", "csv", "--db", db, env=env())
    acc = gongkai("collect", "accept", "--crawl", str(crawl_id), "--min-confidence", "0.5", "--db", db, env=env())
    assert acc.returncode == 0, acc.stderr
    n = len(proposals(db, crawl_id))
    assert f"{n} proposals accepted; {n} rows valid; imported {n} new" in acc.stdout
    after = gongkai("score", "--level", "finding", "--format", "csv", "--db", db, env=env())
    # the truth imported as a firm's file into another database scores the same findings
    other = f"sqlite:///{tmp_path / 'imported.db'}"
    assert gongkai("criteria", "load", str(SCHEME_2017), "--db", other, env=env()).returncode == 0
    file = tmp_path / "truth-import.csv"
    want.to_csv(file, index=False)
    imp = gongkai("import", str(file), "--db", other, env=env())
    assert imp.returncode == 0, imp.stderr
    direct = gongkai("score", "--level", "finding", "--format", "csv", "--db", other, env=env())
    mine = [r for r in csv.DictReader(io.StringIO(after.stdout)) if r["body"] == "tongji"]
    theirs = [r for r in csv.DictReader(io.StringIO(direct.stdout)) if r["body"] == "tongji"]
    assert mine == theirs
    assert any(r["outcome"] == "on_time" for r in mine) and any(r["outcome"] == "missing" for r in mine)
    lost = {r["obligation"]: r for r in csv.DictReader(io.StringIO(before.stdout)) if r["body"] == "tongji"}
    assert float(lost["1.1.2"]["earned"]) == 0.0  # nothing was evidence before the accept
    # provenance: each record's file is the WARC response record it was read from
    from scoring import workflows
    from scoring.store.accounts import Actor

    ev = workflows.evidence(db, actor=Actor("t", None), scheme_id="shandong-2017")
    ev = ev[ev["body"] == "tongji"]
    assert set(ev["attachment"]) == set(proposals(db, crawl_id)["capture"])
    again = gongkai("collect", "accept", "--crawl", str(crawl_id), "--db", db, env=env())
    assert again.returncode == 1 and "no proposal left to accept" in again.stderr


def test_a_bad_row_refuses_the_accept_and_names_the_proposal(tmp_path, scheme):
    folder = tmp_path / "site"
    write_site(scheme, folder, body="tongji", seed=7, filler=3)
    # a report of December dated in November: proposed (low confidence, and says why), refused on accept
    page = ('<html><head><meta charset="utf-8"><title>2017年12月全省国民经济运行情况</title></head><body>'
            "<h1>2017年12月全省国民经济运行情况</h1><p>发布时间：2017年11月20日</p></body></html>")
    (folder / "art" / "early.html").write_text(page, encoding="utf-8")
    home = (folder / "index.html").read_text(encoding="utf-8")
    (folder / "index.html").write_text(home.replace("</body>", '<a href="/art/early.html">早</a></body>'), encoding="utf-8")
    server = serve(folder)
    db = f"sqlite:///{tmp_path / 'g.db'}"
    try:
        assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=env()).returncode == 0
        r = gongkai("collect", "crawl", "--body", "tongji", "--site", server.url, "--rate", "0", "--db", db, env=env())
        assert r.returncode == 0, r.stderr
    finally:
        server.shutdown()
    listed = gongkai("collect", "proposals", "--crawl", "1", "--format", "json", "--db", db, env=env())
    rows = json.loads(listed.stdout)
    early = next(i for i, p in enumerate(rows) if p["url"].endswith("/art/early.html"))
    assert rows[early]["period"] == "2017-12" and rows[early]["confidence"] < 0.5
    assert "发布日期早于期间开始（2017-12-01）" in rows[early]["reason"]
    table = gongkai("collect", "proposals", "--crawl", "1", "--db", db, env=env()).stdout
    pid = next(line.split()[0] for line in table.splitlines() if "early.html" in line)
    bad = gongkai("collect", "accept", "--crawl", "1", "--id", pid, "--db", db, env=env())
    assert bad.returncode == 1
    assert "row 2, column published_at, value '2017-11-20': " in bad.stderr
    assert f"(proposal {pid})" in bad.stderr
    ok = gongkai("collect", "accept", "--crawl", "1", "--min-confidence", "0.5", "--db", db, env=env())
    assert ok.returncode == 0, ok.stderr


def test_a_private_address_is_refused_without_the_allow_setting(tmp_path, scheme):
    folder = tmp_path / "site"
    write_site(scheme, folder, body="tongji", seed=7, filler=0)
    server = serve(folder)
    db = f"sqlite:///{tmp_path / 'g.db'}"
    try:
        assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=clean_env()).returncode == 0
        r = gongkai("collect", "crawl", "--body", "tongji", "--site", server.url, "--db", db, env=clean_env())
        assert r.returncode == 1
        assert "127.0.0.1 resolves to 127.0.0.1, a loopback address: refused" in r.stderr
        assert server.requests == []  # nothing was sent
        # an evaluator's --allow-private (without the environment setting) allows it
        ok = gongkai("collect", "crawl", "--body", "tongji", "--site", server.url, "--allow-private", "--rate", "0",
                     "--max-pages", "5", "--db", db, env=clean_env())
        assert ok.returncode == 0, ok.stderr
        assert len(server.requests) >= 5
    finally:
        server.shutdown()


def test_a_firm_crawls_only_its_assigned_bodies(tmp_path, scheme):
    folder = tmp_path / "site"
    write_site(scheme, folder, body="tongji", seed=7, filler=0)
    server = serve(folder)
    db = f"sqlite:///{tmp_path / 'g.db'}"

    def as_(who: str, *args: str, **extra: str):
        return gongkai(*args, "--db", db, env=env(GONGKAI_USER=who, GONGKAI_PASSWORD=f"{who}-password", **extra))

    try:
        assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=env()).returncode == 0
        assert gongkai("user", "add", "root", "--role", "admin", "--db", db,
                       env=env(GONGKAI_NEW_PASSWORD="root-password")).returncode == 0
        assert as_("root", "user", "add", "acme", "--role", "firm", "--firm", "甲公司",
                   GONGKAI_NEW_PASSWORD="acme-password").returncode == 0
        assert as_("root", "user", "add", "vic", "--role", "viewer", GONGKAI_NEW_PASSWORD="vic-password").returncode == 0
        assert as_("root", "user", "assign", "acme", "--body", "jinan", "--obligation", "*").returncode == 0
        refused = as_("acme", "collect", "crawl", "--body", "tongji", "--site", server.url, "--rate", "0")
        assert refused.returncode == 1
        assert "user acme (firm) may not crawl body tongji" in refused.stderr
        assert server.requests == []
        private = as_("acme", "collect", "crawl", "--body", "jinan", "--site", server.url, "--allow-private")
        assert private.returncode == 1 and "may not collect_private" in private.stderr
        viewer = as_("vic", "collect", "crawl", "--body", "tongji", "--site", server.url)
        assert viewer.returncode == 1 and "may not collect" in viewer.stderr
        assert as_("root", "user", "assign", "acme", "--body", "department", "--obligation", "6.7").returncode == 0
        ok = as_("acme", "collect", "crawl", "--body", "tongji", "--site", server.url, "--rate", "0", "--max-pages", "40")
        assert ok.returncode == 0, ok.stderr
        mine = as_("acme", "collect", "proposals", "--format", "json")
        assert mine.returncode == 0 and json.loads(mine.stdout)
        trail = as_("root", "audit", "--limit", "50").stdout
        assert "collect_crawl_refused" in trail and "collect_crawl " in trail
    finally:
        server.shutdown()


def test_synth_site_cli_writes_a_site_and_its_truth(tmp_path):
    r = gongkai("synth", "site", "--out", str(tmp_path / "s"), "--seed", "3", "--pages", "10")
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(tmp_path / "s" / "truth.csv", dtype=str, keep_default_na=False)
    assert list(t.columns) == ["body", "obligation", "period", "published_at", "url"]
    assert all((tmp_path / "s" / u.lstrip("/")).is_file() for u in t["url"])
    assert (tmp_path / "s" / "robots.txt").read_text().startswith("User-agent: *\nDisallow: /private/")
    again = gongkai("synth", "site", "--out", str(tmp_path / "t"), "--seed", "3", "--pages", "10")
    assert again.returncode == 0
    assert (tmp_path / "t" / "truth.csv").read_bytes() == (tmp_path / "s" / "truth.csv").read_bytes()
    bad = gongkai("synth", "site", "--out", str(tmp_path / "u"), "--body", "nobody")
    assert bad.returncode == 1 and "--body 'nobody' is not a body" in bad.stderr
    old = gongkai("synth")
    assert old.returncode == 1 and "gongkai synth needs --rows N and --out FILE" in old.stderr


def test_crawl_delay_and_rate_space_the_requests(tmp_path, scheme):
    import time

    from scoring.collect.fetch import CollectSettings, Crawler

    folder = tmp_path / "site"
    write_site(scheme, folder, body="tongji", seed=7, filler=0)
    (folder / "robots.txt").write_text("User-agent: *\nCrawl-delay: 0.2\nDisallow: /private/\n")
    server = serve(folder)
    try:
        settings = CollectSettings(allow_private=True)
        start = time.monotonic()
        caps = list(Crawler(server.url, set(), settings=settings, max_pages=6, rate=0).run())
        delayed = time.monotonic() - start
        assert sum(c.response is not None for c in caps) == 6 + 1  # and robots.txt
        assert delayed >= 6 * 0.2  # seven requests, six gaps of the Crawl-delay
        (folder / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
        server2 = serve(folder)
        start = time.monotonic()
        list(Crawler(server2.url, set(), settings=settings, max_pages=6, rate=20).run())
        assert time.monotonic() - start >= 6 / 20
        server2.shutdown()
    finally:
        server.shutdown()

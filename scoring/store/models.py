"""All database tables (SQLModel): schemes, bodies, obligations, evidence and its history, imports, runs,
attachments, and the assessment cycle (publications, appeals, 整改 problems)."""

from __future__ import annotations

import datetime as dt

from pydantic import NaiveDatetime
from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class SchemeRecord(SQLModel, table=True):
    """A scheme as loaded: its id, the file's text (snapshot) and sha256."""

    __tablename__ = "scheme"
    id: str = Field(primary_key=True)
    title: str
    sha256: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    loaded_at: NaiveDatetime
    previous: str | None = None      # lineage.previous: the scheme of the year before


class BodyRecord(SQLModel, table=True):
    __tablename__ = "body"
    scheme_id: str = Field(foreign_key="scheme.id", primary_key=True)
    id: str = Field(primary_key=True)
    name: str
    kind: str
    parent: str | None = None


class ObligationRecord(SQLModel, table=True):
    __tablename__ = "obligation"
    scheme_id: str = Field(foreign_key="scheme.id", primary_key=True)
    id: str = Field(primary_key=True)
    title: str
    points: float


class ImportBatch(SQLModel, table=True):
    """One import of one file: where it came from and what it changed."""

    __tablename__ = "import_batch"
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: str = Field(foreign_key="scheme.id", index=True)
    file_name: str
    sha256: str = Field(index=True)
    firm: str = ""
    imported_at: NaiveDatetime
    rows_total: int
    rows_new: int
    rows_replaced: int
    rows_unchanged: int
    imported_by: str = ""


KEPT_NOT_SCORED = "rejected != '' OR pending OR attachment != ''"   # a rejected or re-sent record, or one with a file


class Evidence(SQLModel, table=True):
    """The current value of one evidence record; its key is unique per scheme (README, "Evidence files")."""

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("scheme_id", "body", "obligation", "period", "event", "step",
                                       "assessor", "record", name="uq_evidence_key"),
                      # the records kept but not scored, or with a preserved file (migration 0015): what a
                      # report reads beside the scored records' snapshot, found without a scan
                      Index("ix_evidence_kept", "scheme_id", "id", sqlite_where=text(KEPT_NOT_SCORED),
                            postgresql_where=text(KEPT_NOT_SCORED)))
    id: int | None = Field(default=None, primary_key=True)
    # scheme and batch: foreign keys on SQLite; on PostgreSQL checked once per statement, the batch of the
    # row's scheme (migration 0006: per-row checks halved COPY's speed); the evidence key indexes scheme_id
    scheme_id: str = Field(foreign_key="scheme.id")
    body: str
    obligation: str
    period: str = ""
    event: str = ""
    step: str = ""
    assessor: str = ""
    record: str = "publication"
    event_at: NaiveDatetime | None = None
    published_at: NaiveDatetime | None = None
    has_time: bool = False
    value: float | None = None
    url: str = ""
    note: str = ""
    batch_id: int = Field(foreign_key="import_batch.id", index=True)
    rejected: str = ""  # an evaluator's reason; a rejected record is kept but not scored
    pending: bool = False  # a new value sent for a rejected record: not scored until an evaluator accepts it
    attachment: str = ""  # sha256 of its preserved file (取證留存), see Attachment
    captured_at: NaiveDatetime | None = None


class EvidenceHistory(SQLModel, table=True):
    """A value an evidence record held before a later import replaced it."""

    __tablename__ = "evidence_history"
    id: int | None = Field(default=None, primary_key=True)
    evidence_id: int = Field(foreign_key="evidence.id", index=True)
    event_at: NaiveDatetime | None = None
    published_at: NaiveDatetime | None = None
    has_time: bool = False
    value: float | None = None
    url: str = ""
    note: str = ""
    attachment: str = ""
    captured_at: NaiveDatetime | None = None
    batch_id: int = Field(foreign_key="import_batch.id")
    replaced_by: int = Field(foreign_key="import_batch.id")
    rejected: str = ""  # the rejection (and its reason) the replaced value carried


class ScoringRun(SQLModel, table=True):
    """A stored scoring run: enough to recompute it, and its results (body scores as JSON)."""

    __tablename__ = "scoring_run"
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: str = Field(foreign_key="scheme.id", index=True)
    scheme_sha256: str
    as_of: dt.date
    evidence_digest: str
    evidence_rows: int
    engine_version: str
    calendar_digest: str = ""        # the loaded holiday notices it was judged on ("" none: package and scheme)
    created_at: NaiveDatetime
    scores_json: str = Field(sa_column=Column(Text, nullable=False))
    obligations_json: str = Field(sa_column=Column(Text, nullable=False))


class AuditEntry(SQLModel, table=True):
    """Who did what, when: imports (and refusals), replacements, scheme loads, scoring runs."""

    __tablename__ = "audit"
    id: int | None = Field(default=None, primary_key=True)
    at: NaiveDatetime = Field(index=True)
    actor: str
    action: str = Field(index=True)
    scheme_id: str = ""
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    sha256: str = ""


class User(SQLModel, table=True):
    """An account: admin (users, schemes), evaluator (score, review, reject, reports), firm (imports
    for its assignments), viewer (read only). Passwords are stored as argon2 hashes only."""

    __tablename__ = "app_user"
    name: str = Field(primary_key=True)
    password_hash: str
    role: str
    disabled: bool = False
    created_at: NaiveDatetime
    firm: str = ""  # a firm account's assessment firm: its rows are that firm's, and only that firm's


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, for the lockout (per account name as typed, and per client); also audited."""

    __tablename__ = "login_failure"
    id: int | None = Field(default=None, primary_key=True)
    at: NaiveDatetime = Field(index=True)
    account: str = Field(index=True)
    client: str = Field(index=True)


class SignIn(SQLModel, table=True):
    """An open dashboard session: the id (jti) its signed token carries. A token is honoured only while
    its row is here: signing out deletes it; disabling the account or changing its password or role
    deletes all of the account's."""

    __tablename__ = "app_session"
    id: str = Field(primary_key=True)
    user: str = Field(index=True)
    created_at: NaiveDatetime
    expires_at: NaiveDatetime


class FirmAssignment(SQLModel, table=True):
    """What a firm may import: a body (id, or a kind: city/county/department, or *) × an obligation (id or *)."""

    __tablename__ = "firm_assignment"
    id: int | None = Field(default=None, primary_key=True)
    user: str = Field(foreign_key="app_user.name", index=True)
    body: str = "*"
    obligation: str = "*"


class Attachment(SQLModel, table=True):
    """A preserved file (screenshot, PDF, saved page, web archive), stored once by its sha256."""

    __tablename__ = "attachment"
    sha256: str = Field(primary_key=True)
    size: int
    kind: str            # PNG, JPEG, PDF, HTML, MHTML, WARC (checked by its first bytes)
    name: str            # the file name it first came with
    stored_at: NaiveDatetime


class BodyAccount(SQLModel, table=True):
    """A `body` account's one assessed unit: it sees and appeals only this body's results."""

    __tablename__ = "body_account"
    user: str = Field(foreign_key="app_user.name", primary_key=True)
    body: str


class Publication(SQLModel, table=True):
    """A published result: preliminary (初評, with a feedback window) or final (終評, frozen). The
    scheme text and the evidence scored are kept, so the run reproduces whatever changes later."""

    __tablename__ = "publication"
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: str = Field(foreign_key="scheme.id", index=True)
    stage: str                       # preliminary | final
    run_id: int = Field(foreign_key="scoring_run.id", index=True)
    as_of: dt.date
    published_at: NaiveDatetime
    published_by: str
    closes_on: dt.date | None = None  # the feedback window's last day (preliminary)
    opened_on: dt.date | None = None  # the day it was published on the scheme's calendar: the windows' anchor
    days: int | None = None          # working days of its window: feedback (preliminary) or 整改 (final)
    provisional: bool = False        # its window's end lies in a year no calendar covers: 暫定 until loaded
    calendar_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # loaded years, frozen
    scheme_text: str = Field(sa_column=Column(Text, nullable=False))
    evidence_gz: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Appeal(SQLModel, table=True):
    """A body's appeal (申訴) of one finding of a preliminary result, and the evaluator's decision (復核)."""

    __tablename__ = "appeal"
    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publication.id", index=True)
    body: str
    obligation: str
    item: str
    reason: str = Field(sa_column=Column(Text, nullable=False))
    published_at: NaiveDatetime | None = None  # when the body says it published (what the file shows)
    url: str = ""
    attachment: str = ""
    captured_at: NaiveDatetime | None = None
    filed_by: str
    filed_at: NaiveDatetime
    status: str = "open"             # open | accepted | rejected
    decision: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    decided_by: str = ""
    decided_at: NaiveDatetime | None = None
    batch_id: int | None = Field(default=None, foreign_key="import_batch.id")  # the record it became


class Problem(SQLModel, table=True):
    """A 整改 problem: a point a body lost in a final result, tracked open → rectified → verified."""

    __tablename__ = "rectification"
    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publication.id", index=True)
    body: str = Field(index=True)
    obligation: str
    lost: float
    due_on: dt.date
    status: str = "open"             # open | rectified | verified
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    attachment: str = ""
    updated_by: str = ""
    updated_at: NaiveDatetime | None = None


class CalendarDay(SQLModel, table=True):
    """A holiday or make-up working day (調休) of a year as the State Council's notice lists it, loaded
    by an office (`gongkai calendar load`); a loaded year takes precedence over the package's data."""

    __tablename__ = "calendar_day"
    day: dt.date = Field(primary_key=True)
    year: int = Field(index=True)
    kind: str                        # holiday | workday
    name: str = ""                   # 元旦, 春節 …
    source: str                      # the file it came from
    sha256: str                      # of that file
    loaded_by: str
    loaded_at: NaiveDatetime


# ---- the web collector (scoring/collect; migration 0008) ---------------------------------------

class Crawl(SQLModel, table=True):
    """One crawl of one body's website: who ran it, when, what it fetched, and its CDXJ index (the
    index and every WARC record it names are in the attachment store, by sha256)."""

    __tablename__ = "crawl"
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: str = Field(foreign_key="scheme.id", index=True)
    body: str
    site: str
    account: str
    started_at: NaiveDatetime
    ended_at: NaiveDatetime | None = None
    pages: int = 0
    bytes: int = 0
    errors: int = 0
    index_sha256: str = ""
    settings: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Capture(SQLModel, table=True):
    """One URL of a crawl: its WARC request and response records (sha256), what the page says, or
    why it was not fetched (`note`) or failed (`error`)."""

    __tablename__ = "capture"
    id: int | None = Field(default=None, primary_key=True)
    crawl_id: int = Field(foreign_key="crawl.id", index=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    depth: int = 0
    fetched_at: NaiveDatetime
    status: int | None = None
    mime: str = ""
    size: int = 0
    request_sha256: str = ""
    response_sha256: str = ""
    kind: str = ""            # html | pdf | other
    title: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    published_at: NaiveDatetime | None = None
    has_time: bool = False
    date_source: str = ""     # table | meta | label | list | htmldate | written | text
    channel: str = ""
    referrer_channel: str = ""
    is_list: bool = False
    redirect: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    screenshot_sha256: str = ""  # a proposed page's full-page PNG (--screenshots), in the attachment store
    screenshot_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    screenshot_at: NaiveDatetime | None = None


class Proposal(SQLModel, table=True):
    """A proposed evidence row from a crawl: not evidence until accepted (then it names the import
    batch it became)."""

    __tablename__ = "proposal"
    id: int | None = Field(default=None, primary_key=True)
    crawl_id: int = Field(foreign_key="crawl.id", index=True)
    capture_id: int = Field(foreign_key="capture.id")
    body: str
    obligation: str
    period: str = ""
    published_at: str = ""
    url: str = Field(sa_column=Column(Text, nullable=False))
    title: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    confidence: float
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    capture: str = ""         # the sha256 of the WARC response record it was read from
    status: str = "proposed"  # proposed | accepted
    batch_id: int | None = Field(default=None, foreign_key="import_batch.id")
    decided_by: str = ""


# ---- the quality of the assessment (抽查, issue 28): samples, blind second readings, settlements ----

class Sample(SQLModel, table=True):
    """A drawn sample (抽查) of assessed items: how it was drawn (seed, size, strata, AQL), of which
    evidence state and as of which day, by whom."""

    __tablename__ = "sample"
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: str = Field(foreign_key="scheme.id", index=True)
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))  # numpy seeds exceed 32 bits
    size: str                        # auto (GB/T 2828.1) or a number per lot
    by: str = ""                     # "" (one lot) | body | obligation | firm
    aql: str
    as_of: dt.date
    population: int                  # assessed items it was drawn from
    evidence_digest: str             # the evidence state drawn from
    drawn_by: str
    drawn_at: NaiveDatetime


class SampleItem(SQLModel, table=True):
    """One drawn item with its first reading (the firm's, as scored when drawn), its lot's plan
    (Ac, Re), and an evaluator's settlement of a disagreement (keep | take | value)."""

    __tablename__ = "sample_item"
    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="sample.id", index=True)
    stratum: str = ""
    body: str
    obligation: str
    kind: str
    item: str
    firm: str = ""                   # the firm(s) whose reading of this body × obligation was drawn
    batches: str = ""                # the import batches of that reading (comma-separated ids)
    first_outcome: str
    first_value: float | None = None
    first_published_at: NaiveDatetime | None = None
    lot: int
    ac: int
    re: int
    settled: str = ""                # keep | take | value
    settled_value: str = ""
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    settled_by: str = ""
    settled_at: NaiveDatetime | None = None
    batch_id: int | None = Field(default=None, foreign_key="import_batch.id")  # the import a settlement made


class SecondReading(SQLModel, table=True):
    """A blind second assessor's row for a sampled item, imported in the evidence format; never scored
    (`sample settle` decides). A row with neither date nor value says: nothing found (`found` false)."""

    __tablename__ = "second_reading"
    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="sample.id", index=True)
    body: str
    obligation: str
    period: str = ""
    event: str = ""
    step: str = ""
    event_at: NaiveDatetime | None = None
    published_at: NaiveDatetime | None = None
    has_time: bool = False
    value: float | None = None
    url: str = ""
    note: str = ""
    found: bool = True
    assessor: str = ""
    file_name: str
    sha256: str
    imported_by: str
    imported_at: NaiveDatetime


class SelfAssessment(SQLModel, table=True):
    """A body's self-assessment (自評) of one obligation: what it claims, where and when it published.
    Never evidence and never scored: shown beside the third-party finding where they differ."""

    __tablename__ = "self_assessment"
    __table_args__ = (UniqueConstraint("scheme_id", "body", "obligation", name="uq_self_assessment"),)
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: str = Field(foreign_key="scheme.id", index=True)
    body: str
    obligation: str
    claim: str                       # an outcome (on_time, late, missing, met, short, pass, fail) or a number
    url: str = ""
    published_at: dt.date | None = None
    note: str = ""
    submitted_by: str
    submitted_at: NaiveDatetime


# ---- the documents of record (通報, 整改通知書; migration 0012) --------------------------------

class NoticeSettings(SQLModel, table=True):
    """The letterhead of an assessment's documents (GB/T 9704-2012): the issuing office (发文机关, its
    标志 is office + 文件), its 文号 pattern ({year} = the year of issue), 主送 and 抄送."""

    __tablename__ = "notice_settings"
    scheme_id: str = Field(foreign_key="scheme.id", primary_key=True)
    office: str
    number: str
    to: str = ""
    cc: str = ""
    set_by: str
    set_at: NaiveDatetime


# ---- the website inspection (網站檢查, issue 24; migration 0013) ----------------------------------

class Poll(SQLModel, table=True):
    """One inspection observation of a body's website: its home page and the columns linked from it,
    fetched at one time (`at`, the observation's time), each page kept as WARC records (PollPage)."""

    __tablename__ = "poll"
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: str = Field(foreign_key="scheme.id", index=True)
    body: str = Field(index=True)
    site: str
    account: str
    at: NaiveDatetime                # the observation's time (UTC)
    started_at: NaiveDatetime        # when it ran (UTC; `at` may be set for a replayed schedule)
    loaded: bool                     # the home page answered 2xx within the timeout
    elapsed: float                   # seconds until the home page answered or failed
    timeout: float                   # the fetch timeout used (seconds)
    status: int | None = None
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class PollPage(SQLModel, table=True):
    """A page of a poll: the home page or a column, its WARC records (sha256) and the items it lists
    (JSON: [[url, title, date or null, the rest of the item's row], …])."""

    __tablename__ = "poll_page"
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    role: str                        # home | column
    url: str = Field(sa_column=Column(Text, nullable=False))
    name: str = ""
    status: int | None = None
    loaded: bool = False
    elapsed: float = 0.0
    request_sha256: str = ""
    response_sha256: str = ""
    items: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))

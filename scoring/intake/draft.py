"""Next year's scheme drafted from its document (工作要點, .txt or .docx): the numbered structure
(一、 （一） 1.) as obligations quoting the document verbatim, lead units from the parenthesised 牽頭
clauses, rules proposed from the text's own words — and every guess marked for review (`review:`),
which `gongkai criteria check` lists until a person has decided it."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

import pandas as pd
import yaml

from scoring.errors import GongkaiError
from scoring.i18n import script
from scoring.intake.tables import _decode
from scoring.method.scheme import Scheme

CN_NUM = "一二三四五六七八九十"
_SECTION = re.compile(rf"^([{CN_NUM}]+)、(.+)$")
_SUB = re.compile(rf"^[(（]([{CN_NUM}]+)[)）](.+)$")
_ITEM = re.compile(r"^(\d{1,2})[.．、](?!\d)(.+)$")
_LEAD = re.compile(r"[(（]([^()（）]*(?:落實|负责|負責)[^()（）]*)[)）]")
_DOC_NO = re.compile(r"[\u4e00-\u9fff]{1,6}〔\d{4}〕\d+號|[\u4e00-\u9fff]{1,6}〔\d{4}〕\d+号")
_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_ADVERBS = ("持續", "持续", "及時", "及时", "進一步", "进一步", "切實", "切实", "積極", "积极", "加快")
ALL_KINDS = ["city", "county", "department"]


@dataclass
class Leaf:
    """One obligation as the document states it: where it sits, its title, its words, its lead clause."""

    id: str
    section: list[str]
    title: str
    text: str
    lead: str = ""
    review: list[str] = field(default_factory=list)


def read_document(data: bytes, name: str) -> str:
    """The text of a .txt (UTF-8 or GB18030) or .docx document, one paragraph a line."""
    if name.lower().endswith(".docx"):
        from docx import Document

        try:
            return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
        except Exception as e:  # noqa: BLE001 — python-docx raises several kinds for a broken file
            raise GongkaiError(f"{name}: not a readable .docx document ({type(e).__name__})") from None
    try:
        return _decode(data)
    except ValueError:
        raise GongkaiError(f"{name}: not UTF-8 or GB18030 text (give the document as .txt or .docx)") from None


def _full(marker: str) -> str:
    return f"（{marker}）"


def _first_sentence(text: str) -> tuple[str, str]:
    head, _, rest = text.partition("。")
    return head.strip(), rest.strip()


def leaves(text: str) -> list[Leaf]:
    """The document's obligations: a numbered item, or a （一） subsection without items, is one; a
    paragraph with several lead clauses is split after each; a paragraph without a heading after a
    section's subsections is the section's next obligation (各級、各部門要…制定實施方案)."""
    out: list[Leaf] = []
    section, sub, sub_title, sub_no, items = "", "", "", 0, 0
    s_no = 0
    for raw in (line.strip() for line in text.splitlines()):
        if m := _SECTION.match(raw):
            s_no, section, sub, sub_no, items = CN_NUM.index(m.group(1)[0]) + 1, raw, "", 0, 0
            continue
        if not s_no or not raw:
            continue
        if m := _SUB.match(raw):
            sub_no, items = CN_NUM.index(m.group(1)[0]) + 1, 0
            title, body = _first_sentence(m.group(2))
            sub, sub_title = _full(m.group(1)) + title, title
            if body:  # a subsection that is itself the obligation
                out += _split(f"{s_no}.{sub_no}", [section], sub, sub_title, body)
            continue
        if (m := _ITEM.match(raw)) and sub:
            items += 1
            title, body = _first_sentence(m.group(2))
            out += _split(f"{s_no}.{sub_no}.{m.group(1)}", [section, sub], title, title, body)
            continue
        # a paragraph without a heading: the section's next obligation
        sub_no += 1
        title = _clause_title(raw)
        out += _split(f"{s_no}.{sub_no}", [section], title, title, raw)
        out[-1].review.append("a paragraph without a heading: its title is drafted from its first clause")
    return out


def _split(ident: str, section: list[str], title: str, plain_title: str, body: str) -> list[Leaf]:
    """One obligation, or one per lead clause when the text goes on after a clause that closes a task."""
    parts, start = [], 0
    for m in _LEAD.finditer(body):
        parts.append((body[start:m.start()].strip(), m.group(1)))
        start = m.end()
    tail = body[start:].strip()
    if tail or not parts:
        parts.append((tail, ""))
    if len(parts) == 1:
        return [Leaf(ident, section, title, parts[0][0], parts[0][1])]
    split_section = [*section, title] if len(section) == 1 else section
    out = []
    for n, (text, lead) in enumerate(parts, 1):
        leaf_title = plain_title if n == 1 else _clause_title(text)
        leaf = Leaf(f"{ident}.{n}", split_section, leaf_title, text, lead)
        if n > 1:
            leaf.review.append("split from its paragraph at a lead clause: its title is drafted from its first clause")
        out.append(leaf)
    return out


def _clause_title(text: str) -> str:
    """A title from a text's first sentence: its first clause that is not the subject (各級、各部門要…),
    without leading adverbs (持續, 及時 …)."""
    head, _ = _first_sentence(text)
    clauses = [c.strip() for c in re.split(r"[,，；;]", head) if c.strip()]
    while len(clauses) > 1 and "要" in clauses[0] and len(clauses[0]) <= 14:
        clauses = clauses[1:]
    title = clauses[0] if clauses else head
    for adverb in _ADVERBS:
        title = title.removeprefix(adverb)
    return title


# ---- who: lead units ------------------------------------------------------------------------------

def lead_units(leaf: Leaf) -> tuple[list[str], list[str], list[str]]:
    """(lead unit names, kinds it applies to, review notes) from a leaf's 牽頭 clause and its words."""
    names, kinds, review = [], [], []
    clause = re.sub(r"(按職責分工分別|按职责分工分别)?(牽頭|牵头|負責|负责)落實$", "", leaf.lead.strip())
    for part in filter(None, (p.strip() for p in clause.split("、"))):
        part = re.sub(r"等(部門|部门|單位|单位)$", "", part)
        if part in ("各市", "各市政府", "各設區市"):
            kinds.append("city")
        elif part in ("各縣", "各县", "各縣(市、區)"):
            kinds.append("county")
        elif "有關部門" in part or "有关部门" in part:
            review.append(f"「{part}」: which departments? the document names none")
        else:
            names.append(part)
    text = leaf.text
    if not leaf.lead and re.search(r"各級、各部門|各级、各部门", text):
        kinds = list(ALL_KINDS)
    elif re.search(r"地級及以上城市|地级及以上城市", text) and "city" not in kinds:
        kinds.append("city")
        review.append("the text binds 地級及以上城市人民政府: applies to cities")
    if leaf.lead and re.search(r"各級政府|各级政府", text) and "county" not in kinds:
        kinds += [k for k in ("city", "county") if k not in kinds]
        review.append("the text binds 各級政府: applies to cities and counties")
    if re.search(r"市縣級政府|市县级政府|各市、縣|各市、县", text):
        for kind in ("city", "county"):
            if kind not in kinds:
                kinds.append(kind)
        review.append("the text binds 市縣 governments: applies to cities and counties")
    if not names and not kinds:
        review.append("no lead unit named: who is assessed?")
    return names, kinds, review


# ---- what: rules from the document's words --------------------------------------------------------

# a rhythm the document states: 按月 / 每季度 …, or an enumeration (月度、季度、年度新聞發佈會); not a
# 年度報告 (an annual report) nor a 季度抽查 (an inspector's check)
_RHYTHM = [(r"按月|每月|月度", "monthly"), (r"按季度|每季度|季度、|、季度(?!抽查)", "quarterly"),
           (r"每週|每周|按週", "weekly"), (r"每五日", "pentad"), (r"季度、年度", "yearly")]
_REGULARLY = re.compile(r"定期(?:向社會|向社会|在[^,，。]{0,8})?(?:發佈|公佈|公開|发布|公布|公开|更新)")


def _clauses(text: str) -> list[str]:
    return [c.strip() for c in re.split(r"[。；;]", text) if c.strip()]


def propose_rules(text: str, year: int) -> tuple[list[dict], list[str]]:
    """Rules the text states (deadline, periodic, response, count, share, request), each labelled
    with the clause it comes from; review notes for every guess. A text that states none gets a
    rating (an assessor's judgement), marked for review."""
    rules: list[dict] = []
    review: list[str] = []
    seen: set[str] = set()
    for clause in _clauses(text):
        if (m := re.search(r"最遲(\d+)小時內.*?(\d+)小時內", clause)) or (m := re.search(r"最迟(\d+)小时内.*?(\d+)小时内", clause)):
            rules.append({"kind": "response", "label": clause, "steps": [
                {"name": "release", "within": {"hours": int(m.group(1))}},
                {"name": "press_conference", "within": {"hours": int(m.group(2))}}]})
            continue
        if m := re.search(r"不低於(\d+(?:\.\d+)?)%|不低于(\d+(?:\.\d+)?)%", clause):
            rules.append({"kind": "share", "label": clause})
            continue
        if m := re.search(r"至少(?:聽取|听取)?([一二三四五1-9])次", clause):
            n = m.group(1)
            rules.append({"kind": "count", "label": clause, "min": int(n) if n.isdigit() else CN_NUM.index(n) + 1})
            continue
        if re.search(r"依申請公開|依申请公开", clause) and re.search(r"法定時限|法定时限", clause):
            rules.append({"kind": "request", "label": clause})
            continue
        if m := re.search(r"(\d{1,2})月底前", clause):
            month = int(m.group(1))
            end = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1))
            rules.append({"kind": "deadline", "label": clause, "due": end})
            continue
        if re.search(r"年年底前|年底前", clause):
            rules.append({"kind": "deadline", "label": clause, "due": dt.date(year, 12, 31)})
            continue
        if m := re.search(r"(\d+)個工作日內|(\d+)个工作日内", clause):
            n = int(m.group(1) or m.group(2))
            rules.append({"kind": "deadline", "label": clause, "due": {"after": "issued", "within": {"working_days": n}}})
            if not re.search(r"本要點公佈後|本要点公布后|印發之日|印发之日", clause):
                review.append(f"「{clause[:40]}」: {n} working days after what? the draft counts from the document's issue date")
            continue
        if re.match(r"(出臺|出台)", clause):
            rules.append({"kind": "deadline", "label": clause, "due": dt.date(year, 12, 31)})
            review.append(f"「{clause[:40]}」: no date given; the end of the year is assumed")
            continue
        for pattern, frequency in _RHYTHM:
            if re.search(pattern, clause) and frequency not in seen:
                seen.add(frequency)
                rules.append({"kind": "periodic", "label": clause, "frequency": frequency})
                review.append(f"「{clause[:40]}」: {frequency}; how soon after each period ends is not stated (within)")
    regularly = next((c for c in _clauses(text) if _REGULARLY.search(c)), None)
    if regularly and not seen:  # 定期 with no rhythm stated anywhere in the obligation
        rules.append({"kind": "periodic", "label": regularly, "frequency": "quarterly"})
        review.append(f"「{regularly[:40]}」: 定期 names no rhythm; quarterly is assumed")
    if not rules:
        rules.append({"kind": "rating", "label": "第三方評估"})
        review.append("no publication rule in the text: an assessor's rating (0–100) is assumed")
    return rules, review


# ---- the draft scheme ------------------------------------------------------------------------------

def header_of(text: str) -> dict:
    """Title, document number, issue date and period from the notice that carries the 要點."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = next((re.sub(r"^.*印發", "", line).removesuffix("的通知") for line in lines if "印發" in line or "印发" in line),
                 lines[0] if lines else "")
    document = next((m.group(0) for line in lines if (m := _DOC_NO.search(line))), "")
    issued = next((dt.date(*map(int, m.groups())) for line in lines[:20] if (m := _DATE.match(line))), None)
    year = int(m.group(0)) if (m := re.match(r"\d{4}", title)) else (issued.year if issued else dt.date.today().year)
    share = re.search(r"分值不低於(\d+(?:\.\d+)?)%|分值不低于(\d+(?:\.\d+)?)%", text)
    return {"title": title, "document": document, "issued": issued or dt.date(year, 1, 1), "year": year,
            "share": float(share.group(1) or share.group(2)) / 100 if share else 0.04}


def _pinyin_id(name: str) -> str:
    from pypinyin import lazy_pinyin

    return re.sub(r"[^a-z0-9]", "", "".join(lazy_pinyin(script(name, "zh-Hans").removeprefix("省")))) or "body"


def draft(text: str, previous: Scheme | None = None) -> dict:
    """The draft scheme as a document (a dict to write as YAML): header, bodies, obligations."""
    head = header_of(text)
    year = head["year"]
    by_name: dict[str, str] = {}
    if previous is not None:
        for b in previous.bodies:
            for n in (b.name, *b.aliases):
                by_name[script(n, "zh-Hans")] = b.id
    bodies: dict[str, dict] = {}
    obligations = []
    before: tuple[str, list[str]] = ("", [])
    for leaf in leaves(text):
        names, kinds, who_review = lead_units(leaf)
        section = leaf.section[0]
        if not leaf.lead and not names and before[0] == section and before[1]:
            kinds, who_review = list(before[1]), [r for r in who_review if not r.startswith("no lead unit")]
            who_review.append("no lead clause: bound like the obligation before it in its section (各級、各部門)")
        before = (section, kinds if not leaf.lead else [])
        rules, rule_review = propose_rules(leaf.text, year)
        leads = []
        for name in names:
            ident = by_name.get(script(name, "zh-Hans"))
            if ident is None:
                ident = _pinyin_id(name)
                central = not name.startswith("省")
                bodies.setdefault(ident, {"id": ident, "name": name, "kind": "department", "central": central})
                if previous is not None:
                    who_review.append(f"{name}: not a body of {previous.id} (new, renamed or merged?)")
            leads.append(ident)
        old = previous.obligation(leaf.id) if previous is not None and leaf.id in {o.id for o in previous.obligations} else None
        points = old.points if old is not None and _similar(old.title, leaf.title) else 1.0
        review = [*leaf.review, *who_review, *rule_review]
        if old is None or points == 1.0 and (old is None or not _similar(old.title, leaf.title)):
            review.append("points: the document gives none" + (f"; {previous.id} has no obligation like it" if previous else ""))
        quote = (leaf.text + (f"({leaf.lead})" if leaf.lead else "")) or leaf.title
        ob: dict[str, object] = {"id": leaf.id, "section": leaf.section, "title": leaf.title, "source": quote}
        if leads:
            ob["leads"] = leads
        if kinds:
            ob["applies_to"] = kinds
        ob |= {"points": points, "rules": rules, "review": review}
        obligations.append(ob)
    scheme_review = ["grades: the document sets none" + ("; taken from " + previous.id if previous else "; 90/75/60 assumed")]
    if previous is None:
        scheme_review.append("bodies: only the units the document names as leads are listed; add every city, county "
                             "and department assessed")
    sid = re.sub(r"\d{4}", str(year), previous.id) if previous is not None else f"draft-{year}"
    grades = ([g.model_dump() for g in previous.scheme.grades] if previous is not None else
              [{"name": "優秀", "min": 90}, {"name": "良好", "min": 75}, {"name": "合格", "min": 60}, {"name": "不合格", "min": 0}])
    known = [b.model_dump(exclude_defaults=True) for b in previous.bodies] if previous is not None else []
    header: dict[str, object] = {"id": sid, "title": head["title"], "document": head["document"], "issued": head["issued"],
              "period": {"start": dt.date(year, 1, 1), "end": dt.date(year, 12, 31)},
              "timezone": "Asia/Shanghai", "calendar": "cn", "transparency_share": head["share"],
              "min_transparency_share": head["share"], "grades": grades, "review": scheme_review}
    out = {"scheme": header, "bodies": known + list(bodies.values()), "obligations": obligations}
    if previous is not None:
        out["lineage"] = {"previous": previous.id}
    return out


def _similar(a: str, b: str) -> bool:
    """Two titles that say the same (one within the other, ignoring markers and punctuation)."""
    a, b = _plain(a), _plain(b)
    return bool(a and b) and (a in b or b in a)


def _plain(text: str) -> str:
    return re.sub(r"[（）()“”\"、,，。\s]|^（[一二三四五六七八九十]+）", "", script(text, "zh-Hans"))


def to_yaml(doc: dict, source: str) -> str:
    """The draft as YAML, opening with how to review it."""
    reviews = sum(len(o.get("review", [])) for o in doc["obligations"]) + len(doc["scheme"].get("review", []))
    intro = (f"# A DRAFT scheme, made by `gongkai criteria draft` from {source}.\n"
             f"# {reviews} decisions are marked `review:`; decide each, then delete the entry. `gongkai criteria\n"
             "# check` lists those still open, and `criteria load` refuses the file until none is left.\n")
    return intro + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120, default_flow_style=None)


def compare_with(doc: dict, previous: Scheme) -> pd.DataFrame:
    """A draft (its YAML as a dict) beside the scheme it follows, obligation by obligation: change
    (added, changed, dropped — by the crosswalk when the draft has one, else by id), what changed
    (title, points, lead units, rules), and how many of its decisions are still open."""
    before = {o.id: o for o in previous.obligations}
    drafted = {str(o.get("id")): o for o in doc.get("obligations") or [] if isinstance(o, dict)}
    links = (doc.get("lineage") or {}).get("obligations") or []
    renamed = {str(w): str(t) for link in links for w in _as_list(link.get("from")) for t in _as_list(link.get("to"))}
    rows = []
    for ident, o in drafted.items():
        was = next((w for w, t in renamed.items() if t == ident), ident)
        old = before.get(was)
        if old is None:
            rows.append((ident, "added", "", str(o.get("title", "")), "", len(o.get("review") or [])))
            continue
        what = [name for name, a, b in (
            ("title", old.title, o.get("title")), ("points", old.points, o.get("points")),
            ("leads", sorted(old.leads), sorted(o.get("leads") or [])),
            ("rules", sorted(r.kind for r in old.rules), sorted(str(r.get("kind")) for r in o.get("rules") or [])))
            if (not _similar(str(a), str(b)) if name == "title" else a != b)]
        rows.append((ident, "changed" if what or was != ident else "same", old.title, str(o.get("title", "")),
                     "、".join(([f"id {was} →"] if was != ident else []) + what), len(o.get("review") or [])))
    gone = set(before) - set(drafted) - set(renamed)
    rows += [(ident, "dropped", before[ident].title, "", "", 0) for ident in sorted(gone)]
    return pd.DataFrame(rows, columns=["obligation", "change", "before", "after", "what", "open"])


def _as_list(v: object) -> list:
    return [] if v is None else v if isinstance(v, list) else [v]

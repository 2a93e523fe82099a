"""UI and report strings: Simplified Chinese (default), Traditional (derived with OpenCC), English.

The document's own wording (obligation titles, quotes, body names) is shown as the document writes it.
"""

from __future__ import annotations

from functools import lru_cache

import opencc

from scoring.i18n_collect import COLLECT_STRINGS
from scoring.i18n_cycle import CYCLE_STRINGS
from scoring.i18n_inspect import INSPECT_STRINGS
from scoring.i18n_quality import QUALITY_STRINGS

LANGUAGES = {"zh-Hans": "简体中文", "zh-Hant": "繁體中文", "en": "English"}

# key: (简体中文, English)
STRINGS: dict[str, tuple[str, str]] = {
    "app_title": ("政务公开考核", "Government openness assessment"),
    "language": ("语言", "Language"),
    "page_rankings": ("排名", "Rankings"),
    "page_gaps": ("差距", "City gaps"),
    "page_departments": ("部门", "Departments"),
    "page_evidence": ("证据", "Evidence"),
    "page_import": ("导入", "Import"),
    "page_scheme": ("指标", "Scheme"),
    "page_report": ("报告", "Report"),
    "page_audit": ("审计", "Audit trail"),
    "login": ("登录", "Sign in"),
    "logout": ("退出登录", "Sign out"),
    "user_name": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "signed_in": ("当前用户", "Signed in as"),
    "not_allowed": ("您的角色无权使用此页面。", "Your role may not use this page."),
    "reject_id": ("驳回证据（记录编号）", "Reject evidence (record id)"),
    "reject_reason": ("驳回理由", "Reason"),
    "reject_button": ("驳回", "Reject"),
    "rejected": ("已驳回：不再计分，记录保留。", "Rejected: no longer scored; the record is kept."),
    "accept_button": ("接受（重新提交的值）", "Accept (a re-sent value)"),
    "accepted": ("已接受：重新计分，驳回记录保留在历史中。", "Accepted: scored again; the rejection stays in the history."),
    "change_password": ("修改密码", "Change password"),
    "new_password": ("新密码（至少8位）", "New password (at least 8 characters)"),
    "repeat_password": ("再次输入新密码", "New password again"),
    "passwords_differ": ("两次输入的密码不一致。", "The two passwords differ."),
    "password_changed": ("密码已修改。", "Password changed."),
    "audit_caption": ("谁在何时做了什么：导入（及被拒的文件）、替换、方案载入、评分运行", "Who did what, when: imports (and refused files), replacements, scheme loads, scoring runs"),
    "report_formats": ("格式", "Formats"),
    "report_generate": ("生成年度报告", "Generate the annual report"),
    "report_download": ("下载", "Download"),
    "kind_city": ("设区市", "Cities"),
    "kind_county": ("县（市、区）", "Counties"),
    "kind_department": ("省直部门", "Departments"),
    "rank": ("名次", "Rank"),
    "name": ("单位", "Body"),
    "score": ("得分", "Score"),
    "grade": ("等次", "Grade"),
    "change": ("较所选运行变化", "Change vs. chosen run"),
    "rank_change": ("名次变化", "Rank change"),
    "share_rule": ("4%规则", "4% rule"),
    "share_pass": ("达标", "met"),
    "share_fail": ("未达标", "not met"),
    "share_none": ("无数据", "no value"),
    "veto": ("一票否决", "Veto"),
    "compare_run": ("对比的早前运行", "Compare with earlier run"),
    "no_run": ("（不对比）", "(none)"),
    "as_of": ("考核基准日", "Assessment date"),
    "ranking_chart": ("得分排名（按等次着色）", "Scores by rank (coloured by grade)"),
    "grade_chart": ("等次分布", "Grade distribution"),
    "score_histogram": ("得分分布（每2分一档，按等次着色）", "Scores in 2-point bands (coloured by grade)"),
    "body_count": ("单位数", "Bodies"),
    "pick_city": ("选择设区市", "Choose a city"),
    "pick_department": ("选择部门", "Choose a department"),
    "lost_points": ("失分（折算得分）", "Points lost (score points)"),
    "gap_chart": ("各任务失分，由大到小", "Points lost per obligation, largest first"),
    "to_leader": ("与第一名差距", "Behind the leader"),
    "to_median": ("与中位数差距", "Versus the median"),
    "no_gaps": ("该单位没有失分。", "This body lost no points."),
    "heatmap": ("全省薄弱环节：单位 × 任务得分率", "Weak spots: bodies × obligations (share earned)"),
    "finding_item": ("事项", "Item"),
    "finding_rule": ("要求", "Requirement"),
    "finding_due": ("期限", "Due"),
    "finding_published": ("发布时间", "Published"),
    "finding_outcome": ("结果", "Outcome"),
    "finding_lost": ("失分", "Lost"),
    "finding_late": ("逾期", "Late by"),
    "working_days": ("个工作日", " working days"),
    "hours": ("小时", " hours"),
    "outcome_on_time": ("按时", "on time"),
    "outcome_late": ("逾期", "late"),
    "outcome_missing": ("缺失", "missing"),
    "outcome_met": ("达到", "met"),
    "outcome_short": ("未达到", "short"),
    "outcome_rated": ("评分", "rated"),
    "outcome_pass": ("达标", "pass"),
    "outcome_fail": ("未达标", "fail"),
    "filter_body": ("单位", "Body"),
    "filter_obligation": ("任务编号", "Obligation"),
    "filter_firm": ("评估机构", "Firm"),
    "evidence_count": ("条证据", " evidence records"),
    "provenance": ("来源：文件、机构、导入时间", "Provenance: file, firm, import time"),
    "history": ("历史值", "History"),
    "history_pick": ("查看记录的历史（记录编号）", "Show the history of record (id)"),
    "no_history": ("该记录没有被替换过。", "This record has never been replaced."),
    "upload": ("上传证据文件（CSV 或 XLSX；UTF-8 或 GB18030/GBK 编码；每个文件不超过 {mb} MB）",
               "Upload an evidence file (CSV or XLSX; UTF-8 or GB18030/GBK; at most {mb} MB per file)"),
    "problems": ("个问题，未导入任何数据。请修改后重新提交。", " problem(s); nothing was imported. Fix and re-send."),
    "problem_rows": ("下载问题行（CSV）", "Download the problem rows (CSV)"),
    "valid_rows": ("行全部有效：", " rows, all valid: "),
    "would_new": ("新增", "new"),
    "would_replaced": ("替换（旧值保留在历史中）", "replaced (old values kept in history)"),
    "would_unchanged": ("未变", "unchanged"),
    "would_sightings": ("其中同一事项的重复发现（全部保留，以最早为准）", "sightings of an item already in the file (all kept, the earliest counts)"),
    "would_withdrawn": ("撤回（该机构新文件不再列出，保留但不计分）", "withdrawn (no longer in the firm's file: kept, not scored)"),
    "central_unit": ("中央垂直管理单位：不属于省政府，仅就点名其牵头的任务考核，不考核第六部分和4%分值",
                     "Central unit, not part of the provincial government: assessed only on the tasks naming it, "
                     "not on section 六 nor on the 4% share"),
    "central_short": ("中央垂直管理", "central unit"),
    "confirm_import": ("确认导入", "Confirm import"),
    "imported": ("已导入，批次", "Imported as batch"),
    "nothing_changed": ("没有变化：这些证据已在库中。", "Nothing changed: this evidence is already stored."),
    "templates": ("导入模板（每种规则一个，含中文表头和示例行）", "Import templates (one per rule kind, Chinese headers, an example row)"),
    "tree": ("任务树（原文引用、分值、规则）", "Obligation tree (quotes, points, rules)"),
    "points": ("分值", "Points"),
    "obligation_title": ("任务", "Title"),   # beside 任务编号 "Obligation": two columns, two headers
    "rules": ("规则", "Rules"),
    "leads": ("牵头单位", "Leads"),
    "applies": ("适用于全部", "Applies to every"),
    "share_check": ("政务公开在绩效考核中的权重", "Weight of openness in the performance assessment"),
    "share_ok": ("符合“分值不低于4%”", "meets the 4% floor"),
    "share_low": ("低于文件规定的4%下限，方案不成立", "below the document's 4% floor: the scheme is refused"),
    "whatif": ("假设分析：修改分值，实时查看排名变化", "What-if: change points and see the ranking change live"),
    "whatif_share": ("政务公开权重", "Transparency share"),
    "whatif_refused": ("已拒绝：", "Refused: "),
    "whatif_result": ("修改后的排名", "Ranking after the change"),
    "rank_before": ("原名次", "Rank before"),
    "rank_after": ("新名次", "Rank after"),
    "score_before": ("原得分", "Score before"),
    "score_after": ("新得分", "Score after"),
    "synthetic": ("注意：当前数据为合成示例数据（非真实考核结果）。", "Note: this is synthetic demo data, not a real assessment."),
    "robustness": ("排名稳健性", "How sure is this ranking?"),
    "robustness_caption": ("在各指标分值 ±20%、迟报得分率 0.3–0.7、评分 ±5 分的范围内随机扰动 1000 次后，各单位名次的 5%–95% 区间；"
                           "红点为等次在少于 80% 的扰动中保持不变的单位。",
                           "Each body's rank with the 5th–95th percentile of its rank over 1,000 re-scorings with points ±20%, "
                           "late credit 0.3–0.7 and ratings ±5; red: the grade holds in fewer than 80% of the draws."),
    "robustness_run": ("计算排名稳健性（1000 次扰动）", "Work out how sure the ranking is (1,000 re-scorings)"),
    "robustness_wait": ("全国规模需数秒至半分钟；结果按当前证据缓存。",
                        "Seconds to half a minute at national scale; the result is kept for the current evidence."),
    "robustness_chart": ("名次区间（5%–95%）", "Rank interval (5th–95th percentile)"),
    "grade_uncertain": ("等次不确定（保持概率低于 80%）：", "Grade uncertain (holds in under 80% of draws): "),
    "grade_uncertain_short": ("等次不确定", "grade uncertain"),
    "report_robustness": ("二（续）、排名稳健性", "2a. How sure the ranking is"),
    "body_kind": ("类别", "Kind"),
    "sheet_robustness": ("排名稳健性", "Robustness"),
    "rank_interval": ("名次区间（5%–95%）", "Rank interval (5th–95th pct.)"),
    "p_same_grade": ("等次保持概率", "Same grade in draws"),
    "bodies_assessed": ("参评单位", "Bodies assessed"),
    "average": ("平均分", "Average"),
    "report_title": ("年度政务公开考核报告", "Annual government openness assessment report"),
    "report_summary": ("一、总体情况", "1. Summary"),
    "report_rankings": ("二、排名", "2. Rankings"),
    "report_charts": ("三、图表", "3. Charts"),
    "report_bodies": ("四、各单位得分与差距", "4. Scores and gaps of each body"),
    "report_method": ("五、考核方法：任务、分值、规则与原文", "5. Method: obligations, points, rules and the document's words"),
    "report_appendix": ("附录：缺失与逾期事项", "Appendix: missing and late items"),
    "report_generated": ("生成时间", "Generated"),
    "report_run": ("评分运行", "Scoring run"),
    "report_evidence": ("证据", "Evidence"),
    "report_records": ("证据记录", "Evidence records"),
    "report_firms": ("评估机构", "Assessment firms"),
    "report_imports": ("导入批次", "Import batches"),
    "report_imported": ("导入日期", "Import dates"),
    "report_grade_counts": ("等次分布", "Grades"),
    "report_kind": ("类别", "Kind"),
    "report_no_gaps": ("无失分。", "No points lost."),
    "report_section": ("章节", "Section"),
    "report_quote": ("原文", "Document's words"),
    "report_note": ("备注", "Note"),
    "report_url": ("网址", "URL"),
    "report_count": ("数量", "Count"),
    "sheet_summary": ("总体情况", "Summary"),
    "sheet_appendix": ("缺失与逾期", "Missing and late"),
    "appendix_file": ("附录", "appendix"),
    "appendix_apart": ("附录共 {rows} 行，篇幅过大，不在本报告内排印，另存为与本报告同目录的 {file}（CSV，UTF-8，列同本表）。",
                       "The appendix has {rows} rows, too many to print here: it is written beside this report as "
                       "{file} (CSV, UTF-8, the same columns)."),
    "bodies_gaps_file": ("各单位失分指标", "gaps"),
    "bodies_findings_file": ("各单位失分事项", "findings"),
    "bodies_apart": ("{bodies} 个单位的逐单位差距与失分事项篇幅过大，不在本报告内排印，另存为与本报告同目录的 {gaps}"
                     "（各单位失分的指标）与 {findings}（各单位失分最多的事项，每单位至多 {shown} 项），CSV，UTF-8，"
                     "每行注明单位，单位按本报告排名顺序。",
                     "The sections of the {bodies} bodies are too many to print here: they are written beside this "
                     "report as {gaps} (each body's gaps) and {findings} (each body's costliest findings, at most "
                     "{shown} a body), CSV, UTF-8, each row naming its body, the bodies in this report's order."),
    "share_compliance": ("4%规则达标", "4% rule met"),
    "report_toc": ("目录", "Contents"),
    "report_cover_synthetic": ("本报告由合成示例数据生成，不是真实的考核结果。",
                               "This report was made from synthetic demo data; it is not a real assessment."),
    "report_footer_synthetic": ("合成示例数据 · 非真实考核结果", "Synthetic demo data · not a real assessment"),
    "report_document": ("依据文件", "Document"),
    "period_year": ("{y}年", "{y}"),
    "period_quarter": ("{y}年第{n}季度", "{y} Q{n}"),
    "period_month": ("{y}年{n}月", "{y}-{n:02d}"),
    "period_week": ("{y}年第{n}周", "{y} week {n}"),
    "period_day": ("{y}年{m}月{n}日", "{y}-{m:02d}-{n:02d}"),
    "period_pentad": ("{y}年{m}月第{n}候", "{y}-{m:02d} pentad {n}"),
    "login_failed": ("用户名或密码错误。", "Unknown user or wrong password."),
    "audit_when": ("时间", "When"),
    "audit_who": ("用户", "Who"),
    "audit_action": ("操作", "Action"),
    "audit_scheme": ("方案", "Scheme"),
    "audit_id": ("编号", "No."),
    "choose_all": ("全部（可选择筛选）", "All (choose to filter)"),
    "ev_id": ("记录编号", "Record"),
    "ev_period": ("期间", "Period"),
    "ev_event": ("事件编号", "Event"),
    "ev_step": ("环节", "Step"),
    "ev_value": ("分值", "Value"),
    "ev_file": ("文件", "File"),
    "ev_firm": ("导入机构", "Imported for"),
    "ev_imported_at": ("导入时间", "Imported at"),
    "ev_earlier": ("历史值", "Earlier values"),
    "ev_imported_by": ("导入用户", "Imported by"),
    "ev_rejected": ("驳回理由", "Rejected because"),
    "audit_sha256": ("文件哈希（SHA-256）", "File hash (SHA-256)"),
    "audit_detail": ("详情", "Detail"),
}
STRINGS |= CYCLE_STRINGS
STRINGS |= COLLECT_STRINGS
STRINGS |= QUALITY_STRINGS
STRINGS |= INSPECT_STRINGS


@lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def script(value: str, lang: str) -> str:
    """`value` (a name, title or quotation from a scheme or evidence file) in the script of `lang`:
    Simplified for zh-Hans, Traditional for zh-Hant, as written for en. Characters only (OpenCC
    t2s / s2t, no phrase rewording), so a quotation keeps the document's words."""
    if lang == "zh-Hans":
        return _t2s().convert(value)
    return _s2t().convert(value) if lang == "zh-Hant" else value


@lru_cache(maxsize=2048)
def text(key: str, lang: str) -> str:
    """The string `key` in `lang` (zh-Hans, zh-Hant, en); unknown keys fail loudly in tests."""
    hans, en = STRINGS[key]
    if lang == "en":
        return en
    return _s2t().convert(hans) if lang == "zh-Hant" else hans

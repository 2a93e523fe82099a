"""UI and report strings of the website inspection (網站檢查), merged into scoring.i18n.STRINGS:
key → (简体中文, English)."""

INSPECT_STRINGS: dict[str, tuple[str, str]] = {
    "page_inspect": ("网站检查", "Website inspection"),
    "inspect_caption": ("按《政府网站与政务新媒体检查指标》（国办秘函〔2019〕19号）逐项判定每个被监测网站：单项否决、扣分、得分与结论，"
                        "每项附其所依据的监测记录与存档",
                        "Each polled website judged against the State Council's website indicators (国办秘函〔2019〕19号): "
                        "single-veto checks, deductions, score and verdict, each with the polls and captures behind it"),
    "inspect_none": ("检查日期前两周内无监测记录。用 gongkai collect poll --body ID --site URL 监测网站（每天 20 次以上，连续一周）。",
                     "No polls in the two weeks up to the inspection date. Poll a site with gongkai collect poll --body ID "
                     "--site URL (20+ times a day for a week)."),
    "inspect_as_of": ("检查日期", "Inspection date"),
    "inspect_verdicts": ("检查结论", "Verdicts"),
    "inspect_pick": ("网站", "Site"),
    "inspect_body": ("单位", "Body"), "inspect_site": ("网站", "Site"), "inspect_out_of": ("满分", "Out of"),
    "inspect_deductions": ("扣分", "Deductions"), "inspect_score": ("得分", "Score"),
    "inspect_verdict": ("结论", "Verdict"), "inspect_vetoes": ("单项否决", "Vetoes"),
    "inspect_check": ("指标", "Check"), "inspect_name": ("名称", "Name"), "inspect_kind": ("类型", "Kind"),
    "inspect_measured": ("监测值", "Measured"), "inspect_threshold": ("阈值", "Threshold"),
    "inspect_result": ("结果", "Result"), "inspect_polls": ("监测记录", "Polls"),
    "inspect_captures": ("存档记录", "Captures"), "inspect_settings": ("非文件规定的设置", "Settings (not the document's)"),
    "inspect_qualified": ("合格", "Qualified"), "inspect_failed": ("不合格", "Failed"),
    "inspect_insufficient": ("观测不足", "Too few observations"),
    "inspect_veto": ("单项否决", "Veto"), "inspect_deduct": ("扣分", "Deduction"),
    "inspect_pass": ("通过", "Pass"), "inspect_not_observed": ("未监测（人工检查）", "Not observed (checked by hand)"),
    "inspect_not_applicable": ("不适用", "Not applicable"),
    "inspect_scaled": ("无对外服务职能：按 {out_of:g} 分计，乘以 {factor}", "No public services: out of {out_of:g}, scaled by {factor}"),
    "inspect_feed": ("将 {n} 个不合格网站导入为任务 {obligation} 的证据", "Import {n} failed sites as evidence of obligation {obligation}"),
    "inspect_fed": ("已导入：批次 {batch}（新增 {new}，替换 {replaced}，未变 {unchanged}）",
                    "Imported: batch {batch} ({new} new, {replaced} replaced, {unchanged} unchanged)"),
    "report_inspect": ("网站检查", "Website inspection"),
    "report_inspect_none": ("检查日期前无网站监测记录。", "No website polls up to the inspection date."),
}

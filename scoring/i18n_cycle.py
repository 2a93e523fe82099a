"""UI strings of the assessment cycle (appeals, 整改), merged into scoring.i18n.STRINGS: key → (简体中文, English)."""

CYCLE_STRINGS: dict[str, tuple[str, str]] = {
    "draft_compare": ("草案对照（下一年度）", "A draft beside this scheme (next year)"),
    "draft_compare_help": ("上传由 gongkai criteria draft 生成的草案（YAML），查看新增、修改、删除的任务及尚待确定的事项。",
                           "Upload a draft made by gongkai criteria draft (YAML): obligations added, changed and dropped, "
                           "and the decisions still open."),
    "draft_file": ("草案文件", "Draft file"),
    "draft_added": ("新增", "added"), "draft_changed": ("修改", "changed"), "draft_dropped": ("删除", "dropped"),
    "draft_same": ("未变", "same"), "draft_open": ("待定事项", "open decisions"), "draft_change": ("变化", "change"),
    "draft_before": ("本方案", "this scheme"), "draft_after": ("草案", "draft"), "draft_what": ("修改内容", "what changed"),
    "yoy_change": ("较上年", "vs last year"),
    "yoy_previous_score": ("上年得分", "last year"),
    "report_yoy": ("二（续）、与上一年度比较", "2b. Compared with the year before"),
    "report_yoy_caption": ("与上一年度（{previous}）终评结果比较：名次在同一批单位中比较；可比得分只计两年共有的任务；"
                           "合并单位的上年结果按衔接表权重合计（见方法说明第8节）。", "Compared with the final result of "
                           "{previous}: ranks among the same bodies; the comparable score counts only the obligations both "
                           "years share; a merged body's previous result is weighted as the crosswalk says (method, §8)."),
    "sheet_yoy": ("与上年比较", "Year over year"),
    "yoy_rank": ("名次变化", "rank change"),
    "yoy_comparable": ("可比得分变化", "comparable change"),
    "yoy_caption": ("与上一年度（{previous}）终评结果比较：名次在同一批单位中比较；可比得分只计两年共有的任务，"
                    "合并单位的上年结果按衔接表权重合计。", "Compared with the final result of {previous}: ranks among the "
                    "same bodies; the comparable score counts only the obligations both years share; a merged body's "
                    "previous result is weighted as the crosswalk says."),
    "yoy_improved": ("进步最大：", "Most improved: "),
    "yoy_trend": ("历年得分", "Score over the years"),
    "yoy_trend_pick": ("比较单位", "Bodies"),
    "recurring": ("反复出现", "recurring"),
    "recurring_note": ("{n} 项失分在上一年度（{previous}）也曾失分（反复出现）。", "{n} of these points were lost in the year "
                       "before ({previous}) too (recurring)."),
    "provisional_day": ("{date}（暂定）", "{date} (provisional)"),
    "provisional_note": ("标注“暂定”的日期按预估的节假日计算（该年放假安排尚未导入：gongkai calendar load），导入后自动重算。",
                         "Dates marked provisional are computed on estimated holidays (that year's notice is not loaded: "
                         "gongkai calendar load); they are recomputed when it is."),
    "page_appeals": ("申诉", "Appeals"),
    "page_rectify": ("整改", "Rectification"),
    "stage_preliminary": ("初评结果（评分运行 {run}）：反馈期至 {date}", "Preliminary result (run {run}): appeals until {date}"),
    "stage_final": ("终评结果（评分运行 {run}，已冻结）", "Final result (run {run}, frozen)"),
    "run_preliminary": ("初评", "preliminary"), "run_final": ("★ 终评", "★ final"),
    "stage_live": ("本页为当前证据的评分，非已发布结果", "This page scores the current evidence, not a published result"),
    "window_closed": ("反馈期已于 {date} 结束，不再受理申诉。", "The feedback window closed on {date}; appeals are no longer accepted."),
    "no_publication": ("尚未发布考核结果。", "No result is published yet."),
    "pick_body": ("单位", "Body"),
    "lost_findings": ("失分事项", "Points lost"),
    "evidence_files": ("证据与附件", "Evidence and attachments"),
    "download": ("下载", "Download"),
    "report_attachment": ("留存附件", "Preserved file"),
    "report_sha256": ("附件 SHA-256", "File SHA-256"),
    "no_attachment": ("无附件", "no attachment"),
    "attachment_captured": ("取证", "captured"),
    "appeal_form": ("提出申诉", "File an appeal"),
    "appeal_obligation": ("任务编号", "Obligation"),
    "appeal_item": ("事项", "Item"),
    "appeal_reason": ("申诉理由", "Reason"),
    "appeal_published": ("证据显示的发布日期", "Published on (as the file shows)"),
    "appeal_url": ("网址", "URL"),
    "appeal_file": ("附件（截图、PDF、网页存档）", "Attachment (screenshot, PDF, saved page, WARC)"),
    "appeal_submit": ("提交申诉", "Submit the appeal"),
    "appeal_filed": ("申诉已提交，编号", "Appeal filed, number"),
    "appeals_list": ("申诉记录", "Appeals"),
    "decide_form": ("复核申诉", "Decide an appeal"),
    "decide_pick": ("申诉编号", "Appeal"),
    "decide_accept": ("采纳", "Accept"),
    "decide_reject": ("驳回", "Reject"),
    "decide_reason": ("复核意见", "Reason"),
    "decide_submit": ("提交复核结果", "Record the decision"),
    "decided": ("已复核", "Decided"),
    "no_open_appeals": ("没有待复核的申诉。", "No undecided appeals."),
    # the appeal and 整改 tables' columns and status values (dashboard.cycle_ui.cycle_table)
    "cyc_id": ("编号", "No."), "cyc_publication": ("发布编号", "publication"), "cyc_body": ("单位", "body"),
    "cyc_unit": ("单位", "unit"), "cyc_obligation": ("任务", "obligation"), "cyc_item": ("事项", "item"),
    "cyc_reason": ("申诉理由", "reason"), "cyc_published_at": ("证据显示的发布时间", "published (as the file shows)"),
    "cyc_url": ("网址", "URL"), "cyc_attachment": ("附件（SHA-256）", "attachment (SHA-256)"),
    "cyc_filed_by": ("提交人", "filed by"), "cyc_filed_at": ("提交时间", "filed at"), "cyc_status": ("状态", "status"),
    "cyc_decision": ("复核意见", "decision"), "cyc_decided_by": ("复核人", "decided by"),
    "cyc_decided_at": ("复核时间", "decided at"), "cyc_batch": ("批次", "batch"), "cyc_lost": ("失分", "points lost"),
    "cyc_due_on": ("整改期限", "due"), "cyc_note": ("整改记录", "notes"), "cyc_updated_by": ("更新人", "updated by"),
    "cyc_updated_at": ("更新时间", "updated at"),
    "appeal_status_open": ("待复核", "open"), "appeal_status_accepted": ("已采纳", "accepted"),
    "appeal_status_rejected": ("未采纳", "rejected"),
    "problem_status_open": ("未整改", "open"), "problem_status_rectified": ("已整改", "rectified"),
    "problem_status_verified": ("已核验", "verified"),
    "session_expired": ("登录已过期或已失效，请重新登录", "The session has expired or is no longer valid: sign in again"),
    "session_ended": ("登录已结束（已退出，或账号已变更），请重新登录",
                      "The session has ended (signed out, or the account was changed): sign in again"),
    "rectify_by_city": ("各地整改情况（未整改 / 已整改 / 已核验）", "Per city: open / rectified / verified"),
    "rectify_list": ("整改问题", "Problems to rectify"),
    "rectify_form": ("更新整改状态", "Update a problem"),
    "rectify_pick": ("问题编号", "Problem"),
    "rectify_status": ("状态", "Status"),
    "rectify_note": ("整改说明", "Note"),
    "rectify_file": ("整改佐证材料", "Evidence of the rectification"),
    "rectify_submit": ("更新", "Update"),
    "rectify_updated": ("已更新", "Updated"),
    "no_final": ("终评结果发布后才有整改问题。", "Problems to rectify come with the final result."),
}


def cycle_day(day: object, provisional: bool, lang: str) -> str:
    """A cycle date (a feedback window's end, a 整改 due date) as shown: `2027-01-04（暂定）` when it
    was computed on an estimated calendar."""
    from scoring.i18n import text

    return text("provisional_day", lang).format(date=day) if provisional else str(day)

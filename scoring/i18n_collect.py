"""UI strings of the web collector (採集), merged into scoring.i18n.STRINGS: key → (简体中文, English)."""

COLLECT_STRINGS: dict[str, tuple[str, str]] = {
    "page_collect": ("采集", "Web collection"),
    "collect_caption": ("网站采集：每次采集的页面、字节、错误，及其拟提取的证据行（经接受才成为证据）",
                        "Crawls of bodies' websites: pages, bytes, errors, and the evidence rows each proposes (evidence only once accepted)"),
    "collect_none": ("尚无采集。用 gongkai collect crawl --body ID --site URL 采集一个单位的网站。",
                     "No crawl yet. Crawl a body's site with gongkai collect crawl --body ID --site URL."),
    "collect_pick": ("采集批次", "Crawl"),
    "collect_min_confidence": ("最低置信度", "Minimum confidence"),
    "collect_accept": ("接受 {n} 条拟提取证据（作为一次导入）", "Accept {n} proposals (as one import)"),
    "collect_accepted": ("已接受 {n} 条：导入批次 {batch}（新增 {new}，替换 {replaced}，未变 {unchanged}）",
                         "{n} accepted: import batch {batch} ({new} new, {replaced} replaced, {unchanged} unchanged)"),
    "collect_id": ("编号", "Id"), "collect_body": ("单位", "Body"), "collect_site": ("网站", "Site"),
    "collect_account": ("账户", "Account"), "collect_started": ("开始", "Started"), "collect_ended": ("结束", "Ended"),
    "collect_pages": ("页面", "Pages"), "collect_bytes": ("字节", "Bytes"), "collect_errors": ("错误", "Errors"),
    "collect_obligation": ("任务编号", "Obligation"), "collect_period": ("期间", "Period"),
    "collect_published": ("发布时间", "Published"), "collect_url": ("网址", "URL"), "collect_title": ("标题", "Title"),
    "collect_confidence": ("置信度", "Confidence"), "collect_reason": ("依据", "Reason"),
    "collect_capture": ("存档记录", "Capture"), "collect_status": ("状态", "Status"),
}

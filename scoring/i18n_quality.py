"""UI strings of the quality of the assessment (抽查), merged into scoring.i18n.STRINGS: key → (简体中文, English)."""

QUALITY_STRINGS: dict[str, tuple[str, str]] = {
    "page_quality": ("质量", "Quality"),
    "quality_no_sample": ("尚未抽取样本（gongkai sample draw）。", "No sample drawn yet (gongkai sample draw)."),
    "quality_sample": ("样本 {id}：随机种子 {seed}，样本量 {size}，分层 {by}，AQL {aql}，评估日 {as_of}，自 {population} 个评估事项中抽取 {n} 个",
                       "Sample {id}: seed {seed}, size {size}, strata {by}, AQL {aql}, as of {as_of}; {n} of {population} assessed items"),
    "quality_heatmap": ("各任务 × 评估机构的一致率", "Agreement by obligation × firm"),
    "quality_no_second": ("尚无第二次评估（gongkai sample import）。", "No second readings yet (gongkai sample import)."),
    "quality_recheck": ("需复核：{stratum} 不一致 {bad} 项，超过接收数 {ac}；批次 {batches}（{firm}）",
                        "Re-check: {stratum} has {bad} disagreements, above the acceptance number {ac}; batches {batches} ({firm})"),
    "quality_agreement": ("一致性（按任务）", "Agreement by obligation"),
    "quality_disputes": ("有争议的事项", "Items in dispute"),
    "quality_no_disputes": ("两次评估一致，无争议事项。", "The readings agree: no items in dispute."),
    "quality_undefined": ("“—”：未定义（κ：仅一个类别或无结果类事项；α：仅一个分值或无评分事项）。",
                          "—: undefined (κ: one category only, or no outcome items; α: one value only, or no ratings)."),
    "quality_items": ("样本事项", "Sampled items"),
}

"""The words of the credit report pages (the report, its PDF, verification), Chinese and English."""

from api.web.i18n import Language, words

TEXT: dict[str, tuple[str, str]] = {
    "report_title": ("质量信用报告", "Quality credit report"),
    "report_id": ("报告编号", "Report no."),
    "as_of": ("信用状况截至", "Standing as of"),
    "issued_at": ("出具时间（UTC）", "Issued (UTC)"),
    "supervision_class": ("分类监管类别", "Supervision class"),
    "inspections": ("每年抽查次数", "Inspections a year"),
    "class_reason": ("依据", "Because of"),
    "reason_black_list": ("列入黑名单", "the black list"),
    "reason_red_list": ("列入红名单", "the red list"),
    "reason_grade": ("信用等级", "the grade"),
    "reason_unrated": ("暂无评价", "no rating"),
    "active_violations": ("公示中的行政处罚", "Penalties on display"),
    "measures": ("适用的激励和惩戒措施", "Measures that apply"),
    "no_measures": ("无。", "None."),
    "measure": ("措施", "Measure"),
    "direction_incentive": ("守信激励", "Incentive"),
    "direction_punishment": ("失信惩戒", "Punishment"),
    "trigger": ("触发记录", "Triggered by"),
    "ends_on": ("截止", "Until"),
    "while_triggered": ("触发情形存续期间", "While the trigger holds"),
    "record_no": ("记录编号（版本）", "Record (version)"),
    "content": ("内容", "Content"),
    "verify_title": ("核验质量信用报告", "Verify a credit report"),
    "verify_intro": ("粘贴报告的签名文本（JWS），或上传 .jws 文件，核验报告是否由本平台出具且未被篡改，并查看出具后的变化。",
                     "Paste the report's signed text (JWS) or upload its .jws file: you learn whether the registry "
                     "issued it as it is, and what changed since."),
    "paste_jws": ("报告签名文本（JWS）", "The report's signed text (JWS)"),
    "upload": ("或上传 .jws 文件", "Or upload its .jws file"),
    "verify": ("核验", "Verify"),
    "nothing_to_verify": ("请粘贴报告签名文本或上传 .jws 文件。", "Paste the report's signed text or upload its .jws file."),
    "genuine": ("真实有效：本平台出具，内容未被篡改", "Genuine: issued by the registry, not altered"),
    "not_genuine": ("无法核验：不是本平台出具的原件", "Not genuine: not a report the registry issued as it is"),
    "why": ("原因", "Why"),
    "changes": ("出具后的变化", "Changes since it was issued"),
    "no_changes": ("截至今日，平台所载信息与报告一致。", "Today the registry says the same as the report."),
    "scan_to_verify": ("扫码核验", "Scan to verify"),
    "signed_text": ("签名文本（JWS，可保存为 .jws 文件用于核验）", "Signed text (JWS; save it as a .jws file to verify)"),
    "signing_key": ("签名密钥", "Signing key"),
    "open_page": ("查看报告", "Open the report"),
    "download_pdf": ("下载 PDF", "Download the PDF"),
    "report_not_found_title": ("未找到该报告", "Report not found"),
    "report_not_found": ("本平台没有出具过此编号的报告。", "The registry issued no report with this number."),
    "report_note": ("本报告仅载公开信息，个人信息已作遮蔽处理。扫描二维码或访问核验地址可核验真伪并查看出具后的变化。",
                    "This report holds public information only, personal data masked. Scan the QR code or open the "
                    "address to verify it and see what changed since it was issued."),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
}


def report_words(language: Language) -> dict[str, str]:
    index = 0 if language == "zh" else 1
    return words(language) | {key: pair[index] for key, pair in TEXT.items()}

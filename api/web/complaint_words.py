"""The words of the complaint pages (filing, the ticket, following it), Chinese and English."""

from api.web.i18n import Language, words

TEXT: dict[str, tuple[str, str]] = {
    "complaint_title": ("投诉举报", "File a complaint"),
    "complaint_intro": ("对企业或产品的质量问题、假冒伪劣、虚假标注、服务问题进行投诉举报。投诉将转交企业所在地的市场监督管理部门办理。",
                        "Complain about an organization or a product: quality, counterfeits, false labelling, "
                        "service. The complaint goes to the market regulator of the organization's region."),
    "complaint_subject": ("投诉对象", "About"),
    "subject_organization": ("企业", "An organization"),
    "subject_product": ("产品", "A product"),
    "complaint_organization": ("企业统一社会信用代码", "The organization's code"),
    "product_name": ("产品名称", "Product name"),
    "brand": ("品牌（可选）", "Brand (optional)"),
    "producer": ("生产企业代码（可选）", "Producer's code (optional)"),
    "complaint_category": ("投诉类别", "Category"),
    "category_product_quality": ("产品质量", "Product quality"),
    "category_counterfeit": ("假冒伪劣", "Counterfeit"),
    "category_false_labelling": ("虚假标注", "False labelling"),
    "category_service": ("服务问题", "Service"),
    "category_other": ("其他", "Other"),
    "description": ("问题描述", "What happened"),
    "evidence_links": ("证据链接（每行一个，http 或 https，最多 10 个）", "Links to evidence (one a line, http or https, "
                       "at most 10)"),
    "complaint_contact": ("联系方式（可选，仅办理部门可见）", "Contact (optional; only the handling department sees it)"),
    "anonymous": ("匿名（不向任何人透露我的身份）", "Anonymous (never pass my identity on)"),
    "complaint_filed_title": ("投诉已提交", "Complaint filed"),
    "accept_by": ("受理期限", "Acceptance due"),
    "resolve_by": ("办结期限", "Result due"),
    "handled_by": ("办理部门", "Handled by"),
    "administrators": ("平台管理员（待分派）", "The administrators (to be routed)"),
    "follow_complaint": ("查询投诉进度", "Follow a complaint"),
    "complaint_status_intro": ("输入投诉编号和查询密码查看办理进度。", "Enter the complaint's ticket and secret to see how it "
                               "stands."),
    "complaint_unknown": ("编号或密码不正确。", "No complaint with this ticket and secret."),
    "complaint_state_submitted": ("待受理", "Waiting for acceptance"),
    "complaint_state_accepted": ("已受理，办理中", "Accepted, being handled"),
    "complaint_state_rejected": ("不予受理", "Not accepted"),
    "complaint_state_closed": ("已办结", "Closed"),
    "complaint_answer": ("答复（个人信息已遮蔽）", "Answer (personal data masked)"),
    "complaint_description": ("您的描述（个人信息已遮蔽）", "Your description (personal data masked)"),
    "new_complaint": ("我要投诉", "File a complaint"),
}


def complaint_words(language: Language) -> dict[str, str]:
    index = 0 if language == "zh" else 1
    return words(language) | {key: pair[index] for key, pair in TEXT.items()}

"""Signed credit reports (issue 18, item 7), through HTTP on both databases: issued to a reader or a
credit-checking system, verified by the API's own answer, the /verify page (pasted and uploaded), the
command line and the offline script against the JWKS as served; one altered byte is not genuine; a
key rotated out still verifies what it signed; a correction after issue shows on /verify/{id}; the PDF
is a PDF with the organization's Chinese name; personal data typed into a name stays masked in the
JSON, the page and the PDF."""

import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jws as jose_jws
from pypdf import PdfReader
from typer.testing import CliRunner

from api import report_signing
from api.report_signing import NotGenuine
from cli.main import cli
from service.credit.report_keys import SigningKey, public_jwk
from service.records import publishing
from tests import factories as f
from tests.masking import find_personal_data

ROOT = Path(__file__).resolve().parent.parent
OFFLINE_SCRIPT = ROOT / "scripts" / "verify_credit_report.py"
HUAWEI = f.HUAWEI
NAME = "华为技术有限公司"
GENUINE_ZH = "真实有效：本平台出具，内容未被篡改"


@pytest.fixture
def huawei(parties, unit_of_work, clock) -> dict[str, str]:
    """Huawei with a public violation and a black list entry of A's, and a restricted violation
    no report may show."""
    with unit_of_work() as session:
        f.make_organization(session, now=clock.now(), code=HUAWEI, name=NAME)
        violation = publishing.publish(session, HUAWEI, f.violation(), department_code="SZAMR", now=clock.now())
        black = publishing.publish(session, HUAWEI, f.list_entry("black"), department_code="SZAMR", now=clock.now())
        hidden = publishing.publish(session, HUAWEI, f.violation(), department_code="SZAMR", now=clock.now(),
                                    visibility="restricted")
    return {"violation": violation.record.id, "black": black.record.id, "hidden": hidden.record.id}


def issue(client, headers, code: str = HUAWEI, **params) -> dict:
    response = client.get(f"/v1/organizations/{code}/credit-report", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def served_jwks(client) -> dict:
    response = client.get("/.well-known/credit-report-jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    return response.json()


def altered(jws: str, part: int) -> str:
    """``jws`` with one character of one part (0 header, 1 content, 2 signature) changed, in the
    middle, where every bit of the character is data."""
    parts = jws.split(".")
    middle = len(parts[part]) // 2
    parts[part] = parts[part][:middle] + ("A" if parts[part][middle] != "A" else "B") + parts[part][middle + 1:]
    return ".".join(parts)


def verdict(response) -> str:
    start = response.text.index('data-testid="verdict-line">') + len('data-testid="verdict-line">')
    return response.text[start:response.text.index("<", start)]


def credit_registry(*args: str):
    return CliRunner().invoke(cli, list(args))


def offline(report: Path, jwks: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(OFFLINE_SCRIPT), str(report), "--jwks", str(jwks)],
                          capture_output=True, text=True, timeout=60)


class TestIssue:
    def test_a_reader_gets_a_signed_report_of_the_public_standing(self, client, parties, huawei) -> None:
        answer = issue(client, parties["reader"].headers)
        claims = report_signing.verify(answer["jws"], served_jwks(client))
        assert claims == answer["report"]
        assert answer["report_id"].startswith("rpt_") and claims["report_id"] == answer["report_id"]
        assert answer["issued_at"] == claims["issued_at"] == "2026-06-15T02:00:00Z"
        assert answer["verify_url"] == f"http://testserver/verify/{answer['report_id']}"
        assert answer["pdf_url"] == f"http://testserver/reports/{answer['report_id']}.pdf"
        assert claims["organization"] == {"code": HUAWEI, "name": NAME}
        assert claims["as_of"] == "2026-06-15" and claims["lists"] == {"red": False, "black": True}
        assert claims["supervision_class"]["code"] == "D" and claims["supervision_class"]["reason"] == "black_list"
        # Public records only, each with its id and version; the restricted one is nobody's business here.
        assert {(r["id"], r["version"]) for r in claims["records"]} == {(huawei["violation"], 1), (huawei["black"], 1)}
        assert huawei["hidden"] not in answer["jws"] + json.dumps(claims)
        assert claims["measures"] and all(m["trigger"]["record_id"] == huawei["black"] and m["trigger"]["record_version"] == 1
                                          for m in claims["measures"] if m["trigger"]["kind"] == "black_list")
        header = json.loads(report_signing._decoded(answer["jws"].split(".")[0], "header"))
        assert header == {"alg": "ES256", "kid": served_jwks(client)["keys"][0]["kid"], "typ": "credit-report+jws"}

    def test_each_call_is_a_new_report_the_audit_names(self, client, parties, huawei) -> None:
        first, second = (issue(client, parties["reader"].headers)["report_id"] for _ in range(2))
        assert first != second
        entries = client.get("/v1/admin/audit", headers=parties["admin"].headers,
                             params={"action": "credit_report"}).json()["items"]
        assert sorted(e["detail"] for e in entries) == sorted(f"credit report {i}" for i in (first, second))
        assert {e["status"] for e in entries} == {200}

    def test_a_credit_check_client_gets_reports_but_never_records(self, client, client_for, huawei) -> None:
        checker = client_for("SZBANK", "credit:check")
        assert issue(client, checker)["report"]["organization"]["code"] == HUAWEI
        assert client.get(f"/v1/organizations/{HUAWEI}", headers=checker).status_code == 403
        assert client.get(f"/v1/records/{huawei['violation']}", headers=checker).status_code == 403

    def test_an_earlier_day(self, client, parties, huawei) -> None:
        # The black entry takes effect on 2026-05-10; the violation was decided on 2026-05-01.
        claims = issue(client, parties["reader"].headers, as_of="2026-05-05")["report"]
        assert claims["as_of"] == "2026-05-05" and claims["lists"]["black"] is False

    @pytest.mark.parametrize(("code", "params", "status", "problem"), [
        ("914403001922038217", {}, 422, "/problems/invalid-code"),
        ("91440300708461136T", {}, 404, "/problems/organization-not-found"),
        (HUAWEI, {"as_of": "2026-06-16"}, 422, "/problems/invalid-query"),
        (HUAWEI, {"as_of": "yesterday"}, 422, "/problems/validation"),
        (HUAWEI, {"format": "docx"}, 422, "/problems/validation"),
    ])
    def test_problems(self, client, parties, huawei, code, params, status, problem) -> None:
        response = client.get(f"/v1/organizations/{code}/credit-report", headers=parties["reader"].headers,
                              params=params)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == problem
        if "as_of" in params and status == 422 and problem.endswith("invalid-query"):
            assert response.json()["errors"][0]["loc"] == ["query", "as_of"]
        assert client.get("/.well-known/credit-report-jwks.json").json() == {"keys": []}  # nothing was signed

    def test_callers_without_the_scopes(self, client, parties, huawei) -> None:
        assert client.get(f"/v1/organizations/{HUAWEI}/credit-report").status_code == 401
        for role in ("admin", "hooks"):
            response = client.get(f"/v1/organizations/{HUAWEI}/credit-report", headers=parties[role].headers)
            assert response.status_code == 403, role

    def test_links_use_the_configured_public_address(self, settings, clock, parties, huawei) -> None:
        from fastapi.testclient import TestClient

        from api.app import create_app

        app = create_app(settings.model_copy(update={"public_base_url": "https://credit.example.gov.cn/"}), clock=clock)
        with TestClient(app) as behind_a_proxy:
            answer = issue(behind_a_proxy, parties["reader"].headers)
            page = behind_a_proxy.get(f"/reports/{answer['report_id']}")
        assert answer["verify_url"] == f"https://credit.example.gov.cn/verify/{answer['report_id']}"
        assert answer["pdf_url"] == f"https://credit.example.gov.cn/reports/{answer['report_id']}.pdf"
        assert f'href="{answer["verify_url"]}"' in page.text

    def test_pdf_and_printable_page(self, client, parties, huawei) -> None:
        pdf = client.get(f"/v1/organizations/{HUAWEI}/credit-report", headers=parties["reader"].headers,
                         params={"format": "pdf"})
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert NAME in text and HUAWEI in text and "/verify/rpt_" in text.replace("\n", "")
        html = client.get(f"/v1/organizations/{HUAWEI}/credit-report", headers=parties["reader"].headers,
                          params={"format": "html", "lang": "en"})
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert NAME in html.text and "<svg" in html.text and "Quality credit report" in html.text


class TestVerify:
    def test_genuine_everywhere(self, client, parties, huawei, cli_env, tmp_path) -> None:
        answer = issue(client, parties["reader"].headers)
        jwks_file = tmp_path / "credit-report-jwks.json"
        jwks_file.write_text(json.dumps(served_jwks(client)))
        report_file, answer_file = tmp_path / "report.jws", tmp_path / "answer.json"
        report_file.write_text(answer["jws"])
        answer_file.write_text(json.dumps(answer, ensure_ascii=False))

        pasted = client.post("/verify", data={"jws": answer["jws"]})
        uploaded = client.post("/verify", files={"file": ("report.jws", answer["jws"].encode(), "application/jose")})
        whole_answer = client.post("/verify", files={"file": ("answer.json", answer_file.read_bytes(), "application/json")})
        for response in (pasted, uploaded, whole_answer):
            assert response.status_code == 200 and verdict(response) == GENUINE_ZH
            assert 'data-testid="no-changes"' in response.text and NAME in response.text
        english = client.get(f"/verify/{answer['report_id']}?lang=en")
        assert verdict(english) == "Genuine: issued by the registry, not altered"

        for source in (report_file, answer_file):
            for jwks in ([], ["--jwks", str(jwks_file)]):  # without: this registry's own keys
                result = credit_registry("verify-report", str(source), *jwks)
                assert result.exit_code == 0, result.output
                assert result.output.startswith("GENUINE") and f"{HUAWEI} {NAME}" in result.output
            checked = offline(source, jwks_file)
            assert checked.returncode == 0, checked.stdout + checked.stderr
            assert checked.stdout.startswith("GENUINE") and json.loads(checked.stdout[8:]) == answer["report"]

    @pytest.mark.parametrize("part", [1, 2], ids=["content", "signature"])
    def test_one_altered_character_is_not_genuine(self, client, parties, huawei, cli_env, tmp_path, part) -> None:
        answer = issue(client, parties["reader"].headers)
        forged = altered(answer["jws"], part)
        assert forged != answer["jws"] and len(forged) == len(answer["jws"])
        jwks = served_jwks(client)
        with pytest.raises(NotGenuine, match="altered"):
            report_signing.verify(forged, jwks)
        page = client.post("/verify", data={"jws": forged})
        assert page.status_code == 200 and verdict(page) == "无法核验：不是本平台出具的原件"
        assert "altered" in page.text and 'data-testid="changes"' not in page.text
        report_file, jwks_file = tmp_path / "forged.jws", tmp_path / "jwks.json"
        report_file.write_text(forged)
        jwks_file.write_text(json.dumps(jwks))
        result = credit_registry("verify-report", str(report_file), "--jwks", str(jwks_file))
        assert result.exit_code == 1 and result.output.startswith("NOT GENUINE"), result.output
        checked = offline(report_file, jwks_file)
        assert checked.returncode == 1 and checked.stdout.startswith("NOT GENUINE"), checked.stdout

    def test_a_character_that_changes_only_padding_bits_is_not_genuine(self, client, parties, huawei,
                                                                      tmp_path) -> None:
        """The last character of a 64-byte signature carries two unused bits: lenient base64 decodes
        the changed text to the same bytes, so only the canonical-spelling check catches it."""
        answer = issue(client, parties["reader"].headers)
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = answer["jws"][-1]
        forged = answer["jws"][:-1] + alphabet[alphabet.index(last) ^ 1]
        with pytest.raises(NotGenuine, match="canonical"):
            report_signing.verify(forged, served_jwks(client))
        (tmp_path / "r.jws").write_text(forged)
        (tmp_path / "k.json").write_text(json.dumps(served_jwks(client)))
        assert offline(tmp_path / "r.jws", tmp_path / "k.json").returncode == 1

    def test_forgeries(self, client, parties, huawei) -> None:
        answer = issue(client, parties["reader"].headers)
        jwks = served_jwks(client)
        claims, kid = answer["report"], jwks["keys"][0]["kid"]
        other = ec.generate_private_key(ec.SECP256R1())
        pem = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode()
        cases = {
            "signed with a key the registry never published": report_signing.sign(claims, SigningKey("report-es256-x", pem)),
            "does not match": report_signing.sign(claims | {"lists": {"red": True, "black": False}},
                                                  SigningKey(kid, pem)),  # another key under the registry's kid
            "unexpected header parameters: 'jwk'": jose_jws.sign(
                json.dumps(claims).encode(), pem, algorithm="ES256",
                headers={"kid": kid, "typ": "credit-report+jws", "jwk": public_jwk(other.public_key(), kid)}),
            "not a credit report": jose_jws.sign(json.dumps(claims).encode(), pem, algorithm="ES256",
                                                 headers={"kid": kid}),  # typ JWT
            "not ES256": jose_jws.sign(json.dumps(claims).encode(), json.dumps(jwks["keys"][0]), algorithm="HS256",
                                       headers={"kid": kid, "typ": "credit-report+jws"}),
            "three base64url parts": answer["jws"] + ".",
            "this JSON holds no signed report": json.dumps({"report": claims}),
        }
        for reason, forged in cases.items():
            page = client.post("/verify", data={"jws": forged})
            assert page.status_code == 200 and verdict(page).startswith("无法核验"), reason
            shown = reason.replace('"', "&#34;").replace("'", "&#39;")
            assert shown in page.text or reason in page.text, (reason, page.text[-2000:])

    def test_a_form_of_thousands_of_parts_is_refused_unparsed(self, client) -> None:
        # Parsing each MIME part is slow: a 1 MiB body of tiny parts kept a process's loop busy for
        # seconds. It is refused before any is parsed.
        boundary = "b"
        body = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nx\r\n"
                       for i in range(5000)) + f"--{boundary}--\r\n"
        response = client.post("/verify", content=body.encode(),
                               headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert response.status_code == 400 and "parts" in response.text

    def test_nothing_to_verify_and_unknown_reports(self, client) -> None:
        empty = client.post("/verify", data={"jws": "  "})
        assert empty.status_code == 422 and 'data-testid="error"' in empty.text
        for path in ("/verify/rpt_01M8HHB070WTJFEMEJPQ6ZKPMK", "/reports/rpt_01M8HHB070WTJFEMEJPQ6ZKPMK",
                     "/reports/rpt_01M8HHB070WTJFEMEJPQ6ZKPMK.pdf", "/reports/" + "x" * 300):
            response = client.get(path)
            assert response.status_code == 404 and response.headers["content-type"].startswith("text/html"), path
            assert "本平台没有出具过此编号的报告" in response.text


class TestReportsVerifyForEver:
    def test_a_key_rotated_out_still_verifies_what_it_signed(self, client, parties, huawei, cli_env,
                                                             tmp_path) -> None:
        old = issue(client, parties["reader"].headers)
        [old_key] = served_jwks(client)["keys"]
        rotated = credit_registry("rotate-report-key")
        assert rotated.exit_code == 0, rotated.output
        new = issue(client, parties["reader"].headers)
        jwks = served_jwks(client)
        assert [k["kid"] for k in jwks["keys"]] == [old_key["kid"], rotated.output.split()[4].rstrip(";")]
        assert jwks["keys"][0] == old_key
        assert report_signing.kid_of(new["jws"]) == jwks["keys"][1]["kid"] != report_signing.kid_of(old["jws"])
        assert verdict(client.get(f"/verify/{old['report_id']}")) == GENUINE_ZH
        assert report_signing.verify(old["jws"], jwks) == old["report"]
        (tmp_path / "old.jws").write_text(old["jws"])
        (tmp_path / "jwks.json").write_text(json.dumps(jwks))
        assert offline(tmp_path / "old.jws", tmp_path / "jwks.json").returncode == 0

    def test_a_correction_after_issue_shows_on_the_verification(self, client, parties, huawei, clock) -> None:
        answer = issue(client, parties["reader"].headers)
        assert 'data-testid="no-changes"' in client.get(f"/verify/{answer['report_id']}").text
        fields = f.violation(decided_on=date(2026, 5, 1), penalty="警告").model_dump(mode="json", exclude_none=True)
        corrected = client.post(f"/v1/records/{huawei['violation']}/corrections", headers=parties["a"].headers,
                                json={"reason": "处罚内容更正", "fields": fields})
        assert corrected.status_code == 200, corrected.text
        withdrawn = client.post(f"/v1/records/{huawei['black']}/withdrawal", headers=parties["a"].headers,
                                json={"reason": "复议撤销"})
        assert withdrawn.status_code == 200, withdrawn.text
        page = client.get(f"/verify/{answer['report_id']}")
        assert verdict(page) == GENUINE_ZH  # the report is what was issued; the registry moved on
        assert f"行政处罚记录 {huawei['violation']} 已更正为第 2 版" in page.text
        assert f"名单记录 {huawei['black']} 已被撤销" in page.text
        assert "列入黑名单：报告为「是」，现为「否」" in page.text
        codes = {line.split('"')[1] for line in page.text.split("data-code=")[1:]}
        assert {"record_corrected", "record_withdrawn", "black_list", "supervision_class"} <= codes
        english = client.get(f"/verify/{answer['report_id']}?lang=en").text
        assert f"The penalty {huawei['violation']} was corrected: version 2 now" in english


class TestPersonalData:
    def test_a_typed_id_number_in_the_name_stays_masked_in_json_page_and_pdf(self, client, parties, unit_of_work,
                                                                            clock) -> None:
        code = f.new_uscc()
        with unit_of_work() as session:
            f.make_organization(session, now=clock.now(), code=code, hostile=True)
            publishing.publish(session, code, f.violation(hostile=True), department_code="SZAMR", now=clock.now())
        answer = issue(client, parties["reader"].headers, code=code)
        name = answer["report"]["organization"]["name"]
        assert "****" in name and find_personal_data(json.dumps(answer, ensure_ascii=False)) == []
        payload = report_signing._decoded(answer["jws"].split(".")[1], "content").decode()
        assert find_personal_data(payload) == [] and name in payload
        page = client.get(f"/reports/{answer['report_id']}")
        assert name in page.text and find_personal_data(page.text) == []
        pdf = client.get(f"/reports/{answer['report_id']}.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "****" in text and find_personal_data(text) == []

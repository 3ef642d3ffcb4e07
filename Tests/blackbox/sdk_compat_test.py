"""The official provider SDKs from PyPI (pinned in requirements.txt) against the local fakes.

For each SDK: its request is accepted by the fake (as it would be by the provider), and the fake's answer — success
and error alike — parses in the SDK into the objects and exceptions its users handle. A fake that drifted from the
real wire format fails here, not in production.

SDK quirks handled here, not papered over:
- kavenegar 1.1.2 hard-codes `https://api.kavenegar.com`; its `host` attribute is pointed at the fake and the scheme
  rewritten to http in the one `requests.post` it calls. The request it builds is otherwise untouched.
- ippanel-python-sdk 0.1.0 is the Edge SDK (`Authorization: <key>`, JSON bodies); `ippanel` 2.0.7 on PyPI is the
  legacy api2.ippanel.com SDK, another API, so it is not the one checked.
"""
import json
import types
import unittest
import urllib.parse

import ippanel
import kavenegar
import requests
import sib_api_v3_sdk
from sib_api_v3_sdk.rest import ApiException

from fakes import Fakes


def setUpModule():
    global FAKES
    FAKES = Fakes()


def tearDownModule():
    status, errors = FAKES.stop()
    assert status == 0, errors
    assert "error" not in errors.lower(), errors


class KavenegarSDK(unittest.TestCase):
    def setUp(self):
        FAKES.reset()
        base = urllib.parse.urlsplit(FAKES.env["KAVENEGAR_BASE_URL"])  # http://127.0.0.1:PORT/kavenegar/v1
        self.api = kavenegar.KavenegarAPI(FAKES.env["KAVENEGAR_API_KEY"])
        self.api.host = base.netloc + base.path[: -len("/v1")]
        plain = lambda url, **kw: requests.post(url.replace("https://", "http://", 1), **kw)
        kavenegar.requests = types.SimpleNamespace(post=plain, exceptions=requests.exceptions)

    def test_lookup_is_accepted_and_parses(self):
        entries = self.api.verify_lookup({"receptor": "09121234567", "template": "verify", "token": "852596"})
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0]["receptor"], "09121234567")
        self.assertIsInstance(entries[0]["messageid"], int)
        [recorded] = FAKES.requests("kavenegar verify/lookup")
        self.assertEqual(recorded["method"], "POST")
        self.assertIn(["charset", "utf-8"], recorded["headers"])
        self.assertEqual(urllib.parse.parse_qs(recorded["body"])["token"], ["852596"])

    def test_send_with_plus_numbers_and_status(self):
        entries = self.api.sms_send({"receptor": "+989121234567", "message": "سلام", "sender": "+9810004346", "localid": "42"})
        self.assertEqual(entries[0]["receptor"], "+989121234567")  # the SDK's urlencode sent + as %2B
        statuses = self.api.sms_status({"messageid": str(entries[0]["messageid"])})
        self.assertEqual(statuses[0]["messageid"], entries[0]["messageid"])
        self.assertEqual(self.api.account_info()["type"], "master")

    def test_error_envelope_parses_into_api_exception(self):
        for params, code in [({"receptor": "12", "message": "x"}, 411), ({"receptor": "09121234567", "message": "x", "sender": "3000"}, 412),
                             ({"receptor": "09121234567", "message": "x", "date": "1"}, 417)]:
            with self.assertRaises(kavenegar.APIException) as raised:
                self.api.sms_send(params)
            self.assertIn(f"APIException[{code}]", raised.exception.args[0].decode("utf-8"))

    def test_links_restricted_and_programmed_fault(self):
        FAKES.kavenegar(links_restricted=True)
        with self.assertRaises(kavenegar.APIException) as raised:
            self.api.verify_lookup({"receptor": "09121234567", "template": "verify", "token": "1", "token3": "https://kamva.ir/r/1"})
        self.assertIn("APIException[420]", raised.exception.args[0].decode("utf-8"))
        FAKES.fault("kavenegar account/info", {"kind": "status", "status": 409}, times=1)
        with self.assertRaises(kavenegar.APIException):
            self.api.account_info()
        self.assertEqual(self.api.account_info()["type"], "master")


class IPPanelSDK(unittest.TestCase):
    def setUp(self):
        FAKES.reset()
        FAKES.ippanel(bulk_states=[6], recipient_statuses=["2"])
        self.client = ippanel.Client(FAKES.env["IPPANEL_API_KEY"], base_url=FAKES.env["IPPANEL_BASE_URL"] + "/api")

    def test_pattern_webservice_and_votp_are_accepted(self):
        pattern = self.client.send_pattern("code-1", "+983000505", "+989121234567", {"name": "Sara"})
        self.assertTrue(pattern["meta"]["status"])
        self.assertEqual(len(pattern["data"]["message_outbox_ids"]), 1)
        web = self.client.send_webservice("سلام", "+983000505", ["+989121234567", "+989351234567"])
        self.assertTrue(web["meta"]["status"])
        votp = self.client.send_votp(45852, "+989120000000")
        self.assertEqual(votp["meta"]["message_code"], "200-1")
        sent = [json.loads(r["body"])["sending_type"] for r in FAKES.requests("ippanel send")]
        self.assertEqual(sent, ["pattern", "webservice", "votp"])

    def test_errors_raise_as_the_sdk_raises_them(self):
        bad = ippanel.Client("wrong-key", base_url=FAKES.env["IPPANEL_BASE_URL"] + "/api")
        with self.assertRaises(requests.HTTPError) as raised:
            bad.send_votp(1, "+989120000000")
        self.assertEqual(raised.exception.response.status_code, 401)
        self.assertEqual(raised.exception.response.json()["meta"]["errors"], {})
        with self.assertRaises(requests.HTTPError) as raised:
            self.client.send_pattern("", "+983000505", "+989121234567", {})
        self.assertEqual(raised.exception.response.status_code, 422)
        self.assertIn("code", raised.exception.response.json()["meta"]["errors"])


class BrevoSDK(unittest.TestCase):
    def setUp(self):
        FAKES.reset()
        configuration = sib_api_v3_sdk.Configuration()
        configuration.host = FAKES.env["BREVO_BASE_URL"]
        configuration.api_key["api-key"] = FAKES.env["BREVO_API_KEY"]
        self.client = sib_api_v3_sdk.ApiClient(configuration)
        self.reseller = sib_api_v3_sdk.ResellerApi(self.client)

    def test_reseller_flow_parses_into_models(self):
        child = sib_api_v3_sdk.CreateChild(email="sara@example.com", first_name="Sara", last_name="Ahmadi",
                                           company_name="Kamva", password="s3cret-Pass")
        created = self.reseller.create_reseller_child(reseller_child=child)
        self.assertTrue(created.auth_key)
        self.assertIsInstance(created.id, int)
        status = self.reseller.get_child_account_creation_status(created.auth_key)
        self.assertTrue(status.child_account_created)
        credits = self.reseller.add_credits(str(created.id), sib_api_v3_sdk.AddCredits(sms=450, email=1200))
        self.assertEqual(credits.child.sms, 450)
        self.reseller.associate_ip_to_child(created.auth_key, sib_api_v3_sdk.ManageIp(ip="123.65.8.22"))
        info = self.reseller.get_child_info(created.auth_key)
        self.assertEqual(info.email, "sara@example.com")
        self.assertEqual(info.credits.sms_credits, 450)
        children = self.reseller.get_reseller_childs(limit=20)
        self.assertEqual(children.count, 1)
        self.assertEqual([r["endpoint"] for r in FAKES.requests()][:2], ["brevo create child", "brevo creation status"])

    def test_errors_raise_api_exception_with_the_body(self):
        with self.assertRaises(ApiException) as raised:
            self.reseller.get_child_info("no-such-child")
        self.assertEqual(raised.exception.status, 404)
        self.assertEqual(json.loads(raised.exception.body)["code"], "document_not_found")
        FAKES.fault("brevo list children", {"kind": "status", "status": 429, "code": "too_many_requests"})
        with self.assertRaises(ApiException) as raised:
            self.reseller.get_reseller_childs(limit=20)
        self.assertEqual(raised.exception.status, 429)

    def test_transactional_email_is_accepted(self):
        emails = sib_api_v3_sdk.TransactionalEmailsApi(self.client)
        sent = emails.send_transac_email(sib_api_v3_sdk.SendSmtpEmail(
            to=[sib_api_v3_sdk.SendSmtpEmailTo(email="sara@example.com", name="Sara")], template_id=7,
            params={"link": "https://kamva.ir/email/receipt/981"}, headers={"idempotencyKey": "reminder-42-3"}))
        self.assertTrue(sent.message_id)


if __name__ == "__main__":
    unittest.main()

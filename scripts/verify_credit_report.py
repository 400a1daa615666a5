#!/usr/bin/env python3
"""Verify a Quality Credit Registry credit report offline, with nothing but the report keys.

    python3 verify_credit_report.py REPORT --jwks credit-report-jwks.json
    python3 verify_credit_report.py REPORT --jwks https://REGISTRY/.well-known/credit-report-jwks.json

REPORT is the report's .jws file, or the registry's JSON answer that holds it ("jws"). The keys
are the registry's /.well-known/credit-report-jwks.json (a saved copy will do: report keys are
never removed from it). Exit 0: genuine, and what the report says is printed as JSON; 1: not
genuine, and why; 2: the keys could not be read. Needs Python 3.9+ and `cryptography`
(pip install cryptography); nothing else of the registry.

The checks are the registry's own: a compact JWS whose header is exactly alg ES256, typ
credit-report+jws and a kid found in the keys; each part in canonical base64url; an ECDSA P-256
SHA-256 signature over the first two parts.
"""

import argparse
import base64
import binascii
import json
import re
import sys
import urllib.parse
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

REPORT_TYPE = "credit-report+jws"
PART = re.compile(r"[A-Za-z0-9_-]+")


class NotGenuine(Exception):
    pass


def b64url(part, what):
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise NotGenuine(f"the {what} is not base64url") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != part:
        raise NotGenuine(f"the {what} is not in canonical base64url (a character was changed)")
    return raw


def json_object(raw, what):
    try:
        value = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise NotGenuine(f"the {what} is not JSON (it was altered)") from None
    if not isinstance(value, dict):
        raise NotGenuine(f"the {what} is not a JSON object")
    return value


def jws_of(text):
    text = text.strip().lstrip("\ufeff")
    if text.startswith("{"):
        try:
            text = json.loads(text)["jws"]
        except (ValueError, KeyError, TypeError):
            raise NotGenuine("this JSON holds no signed report (no \"jws\")") from None
    return text.strip()


def verify(text, jwks):
    parts = jws_of(text).split(".")
    if len(parts) != 3 or not all(PART.fullmatch(p) for p in parts):
        raise NotGenuine("not a signed report (three base64url parts joined by dots)")
    header = json_object(b64url(parts[0], "header"), "header")
    claims, signature = b64url(parts[1], "content"), b64url(parts[2], "signature")
    if set(header) != {"alg", "kid", "typ"} or header["alg"] != "ES256" or header["typ"] != REPORT_TYPE:
        raise NotGenuine(f"not a credit report header: {header}")
    keys = [k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kid") == header["kid"]]
    if len(keys) != 1 or keys[0].get("kty") != "EC" or keys[0].get("crv") != "P-256":
        raise NotGenuine(f"signed with a key the registry never published ({header['kid']!r})")
    if len(signature) != 64:
        raise NotGenuine("the signature is not an ES256 signature")
    x, y = (int.from_bytes(b64url(keys[0][c], "key"), "big") for c in ("x", "y"))
    key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise NotGenuine("the signature does not match the content: the report was altered") from None
    return json_object(claims, "content")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", help="the .jws file, or the registry's JSON answer")
    parser.add_argument("--jwks", required=True, help="the report keys: a URL or a saved file")
    arguments = parser.parse_args()
    if arguments.jwks.startswith("http://") and urllib.parse.urlsplit(arguments.jwks).hostname not in (
            "127.0.0.1", "localhost", "::1"):
        print("error: fetch the keys over https: over plain http anyone on the way could swap them", file=sys.stderr)
        return 2
    try:
        if arguments.jwks.startswith(("https://", "http://")):
            with urllib.request.urlopen(arguments.jwks, timeout=15) as response:
                jwks = json.load(response)
        else:
            with open(arguments.jwks, encoding="utf-8") as file:
                jwks = json.load(file)
        with open(arguments.report, encoding="utf-8", errors="replace") as file:
            text = file.read()
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        claims = verify(text, jwks)
    except NotGenuine as refused:
        print(f"NOT GENUINE: {refused}")
        return 1
    print("GENUINE")
    print(json.dumps(claims, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

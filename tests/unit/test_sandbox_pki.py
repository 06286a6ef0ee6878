"""Sandbox certificates and client keys: the shapes Alibaba issues, accepted by the SDK's loaders."""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from sealtui.sandbox import pki


@pytest.fixture(scope="module")
def ca() -> pki.CertificateAuthority:
    return pki.create_ca("kst-abcdefghij0123456789")


def _verify_issued(child: x509.Certificate, issuer: x509.Certificate) -> None:
    public_key = issuer.public_key()
    assert child.issuer == issuer.subject
    public_key.verify(  # type: ignore[union-attr,call-arg]
        child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(), child.signature_hash_algorithm
    )


def test_ids_look_like_alibabas():
    assert re.fullmatch(r"kst-[a-z0-9]{20}", pki.new_instance_id())
    assert re.fullmatch(r"KAAP\.[0-9a-f-]{36}", pki.new_client_key_id())


def test_chain_root_intermediate_leaf(ca: pki.CertificateAuthority):
    _verify_issued(ca.root_cert, ca.root_cert)
    _verify_issued(ca.intermediate_cert, ca.root_cert)
    constraints = ca.intermediate_cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = ca.intermediate_cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign and usage.value.digital_signature
    bundle = x509.load_pem_x509_certificates(ca.bundle_pem())
    assert bundle == [ca.root_cert, ca.intermediate_cert]


def test_server_leaf_sans_and_chain(ca: pki.CertificateAuthority):
    chain_pem, key_pem = pki.issue_server_cert(ca, "kst-abcdefghij0123456789")
    leaf, intermediate = x509.load_pem_x509_certificates(chain_pem)
    assert intermediate == ca.intermediate_cert
    _verify_issued(leaf, ca.intermediate_cert)
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == [
        "kst-abcdefghij0123456789.cryptoservice.kms.aliyuncs.com",
        "localhost",
    ]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.IPv4Address("127.0.0.1")]
    key = serialization.load_pem_private_key(key_pem, None)
    assert key.public_key().public_numbers() == leaf.public_key().public_numbers()  # type: ignore[union-attr]


def test_client_key_shape_and_pkcs12():
    issued = pki.issue_client_key("kst-abcdefghij0123456789")
    assert re.fullmatch(r"[0-9a-f]{32}", issued.password)
    content = json.loads(issued.client_key_json)
    assert set(content) == {"KeyId", "PrivateKeyData"} and content["KeyId"] == issued.key_id
    der = base64.b64decode(content["PrivateKeyData"])
    key, cert, extra = pkcs12.load_key_and_certificates(der, issued.password.encode())
    assert key is not None and cert is not None and extra == []
    assert key.key_size == 2048  # type: ignore[union-attr]
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kst-abcdefghij0123456789-client"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_encipherment
    assert 5 * 365 <= (cert.not_valid_after - cert.not_valid_before).days <= 5 * 366
    public = serialization.load_pem_public_key(issued.public_key_pem)
    assert public.public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_client_key_loads_in_the_sdk():
    sdk_util = pytest.importorskip("openapi_util.client")
    issued = pki.issue_client_key("kst-abcdefghij0123456789")
    der = base64.b64decode(json.loads(issued.client_key_json)["PrivateKeyData"])
    body = sdk_util.Client.get_private_pem_from_pk_12(der, issued.password)
    assert len(body) > 1000 and "\n" not in body


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
def test_client_key_uses_3des_and_sha1(tmp_path):
    issued = pki.issue_client_key("kst-abcdefghij0123456789")
    p12 = tmp_path / "key.p12"
    p12.write_bytes(base64.b64decode(json.loads(issued.client_key_json)["PrivateKeyData"]))
    out = subprocess.run(
        ["openssl", "pkcs12", "-info", "-noout", "-in", str(p12), "-passin", f"pass:{issued.password}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    text = out.stdout + out.stderr
    assert "pbeWithSHA1And3-KeyTripleDES-CBC" in text and "MAC: sha1" in text

"""The sandbox against the unmodified Alibaba SDK over TLS, and the authentication/authorisation matrix.

The SDK always signs correctly, so bad requests are forged with `RawKmsClient` (same string-to-sign code as
the server). The SDK's own client path costs ~40 ms of client CPU per call: SDK calls are kept few.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import socket
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils

from sealtui import sandbox as api
from sealtui.sandbox import proto, signing
from tests.paths import ALIYUN
from tests.rawclient import RawKmsClient
from tests.sandbox_support import ROOT, SandboxInfo

sdk_client = pytest.importorskip("sdk.client")
from openapi.models import Config  # noqa: E402
from openapi_util.models import RuntimeOptions  # noqa: E402
from sdk import models  # noqa: E402
from Tea.exceptions import TeaException  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:openapi_util.client")

VECTORS = ALIYUN
MIGRATION = "x-kms-migrationkeyversionid"


@pytest.fixture(scope="module")
def client(sandbox: SandboxInfo):
    config = Config(
        client_key_file=str(sandbox.client_key_file),
        password=sandbox.password,
        endpoint=sandbox.endpoint,
        ca_file_path=str(sandbox.ca_file),
    )
    return sdk_client.Client(config)


@pytest.fixture(scope="module")
def raw(sandbox: SandboxInfo):
    with RawKmsClient.from_files(
        sandbox.endpoint, sandbox.ca_file, sandbox.client_key_file, sandbox.password_file
    ) as c:
        yield c


def _no_retry() -> RuntimeOptions:
    return RuntimeOptions(autoretry=False)


# --- the SDK, every operation -------------------------------------------------------------------------------


def test_encrypt_decrypt_with_alias_aad_and_migration_header(client, sandbox: SandboxInfo):
    rt = RuntimeOptions(response_headers=[MIGRATION])
    enc = client.encrypt_with_options(
        models.EncryptRequest(key_id="alias/sealtui-default", plaintext=b"fourteen bytes", aad=b"ctx"), rt
    )
    assert enc.key_id == sandbox.default_key_id  # the alias is resolved
    assert len(enc.iv) == 12 and len(enc.ciphertext_blob) == 16 + 14 + 16
    assert enc.algorithm == "AES_GCM"
    version = enc.response_headers[MIGRATION]
    assert uuid.UUID(version).bytes == enc.ciphertext_blob[:16]
    dec = client.decrypt_with_options(
        models.DecryptRequest(
            key_id=sandbox.default_key_id, ciphertext_blob=enc.ciphertext_blob, iv=enc.iv, aad=b"ctx"
        ),
        rt,
    )
    assert dec.plaintext == b"fourteen bytes" and dec.key_id == sandbox.default_key_id
    assert dec.response_headers[MIGRATION] == version
    # Without KeyId, as Alibaba's transfer SDK calls it: the blob names its key version.
    dec2 = client.decrypt(models.DecryptRequest(ciphertext_blob=enc.ciphertext_blob, iv=enc.iv, aad=b"ctx"))
    assert dec2.plaintext == b"fourteen bytes" and dec2.key_id == sandbox.default_key_id


def test_generate_data_key_decrypts_to_its_plaintext(client, sandbox: SandboxInfo):
    gdk = client.generate_data_key(models.GenerateDataKeyRequest(key_id="alias/sealtui-default"))
    assert len(gdk.plaintext) == 32 and gdk.key_id == sandbox.default_key_id
    gdk16 = client.generate_data_key(
        models.GenerateDataKeyRequest(key_id=sandbox.default_key_id, number_of_bytes=16, aad=b"a")
    )
    assert len(gdk16.plaintext) == 16
    dec = client.decrypt(
        models.DecryptRequest(
            key_id=sandbox.default_key_id, ciphertext_blob=gdk16.ciphertext_blob, iv=gdk16.iv, aad=b"a"
        )
    )
    assert dec.plaintext == gdk16.plaintext


def test_sign_verify_and_public_key(client, sandbox: SandboxInfo):
    pub = client.get_public_key(models.GetPublicKeyRequest(key_id="alias/sealtui-signing"))
    assert pub.key_id == sandbox.signing_key_id
    assert isinstance(pub.public_key, str) and pub.public_key.startswith("-----BEGIN PUBLIC KEY-----")
    public_key = serialization.load_pem_public_key(pub.public_key.encode())
    assert isinstance(public_key, ec.EllipticCurvePublicKey)

    signed = client.sign(
        models.SignRequest(key_id="alias/sealtui-signing", algorithm="ECDSA_SHA_256", message=b"hello")
    )
    assert signed.signature[0] == 0x30  # DER SEQUENCE, not raw r||s
    public_key.verify(signed.signature, b"hello", ec.ECDSA(hashes.SHA256()))

    digest = hashlib.sha256(b"hello").digest()
    signed_digest = client.sign(
        models.SignRequest(
            key_id=sandbox.signing_key_id, algorithm="ECDSA_SHA_256", message=digest, message_type="DIGEST"
        )
    )
    public_key.verify(signed_digest.signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))

    ok = client.verify(
        models.VerifyRequest(
            key_id="alias/sealtui-signing", algorithm="ECDSA_SHA_256", message=b"hello", signature=signed.signature
        )
    )
    assert ok.value is True
    bad = client.verify(
        models.VerifyRequest(
            key_id="alias/sealtui-signing", algorithm="ECDSA_SHA_256", message=b"hellO", signature=signed.signature
        )
    )
    assert bad.value is False


def test_generate_random(client):
    assert len(client.generate_random(models.GenerateRandomRequest(length=24)).random) == 24
    assert len(client.generate_random(models.GenerateRandomRequest()).random) == 32


def test_get_secret_value(client, sandbox: SandboxInfo):
    api.put_secret(sandbox.root_dir, "db-password", "s3cret")
    api.put_secret(sandbox.root_dir, "db-password", "s3cret-2")  # a second version becomes ACSCurrent
    got = client.get_secret_value(models.GetSecretValueRequest(secret_name="db-password"))
    assert (got.secret_name, got.secret_data, got.secret_data_type) == ("db-password", "s3cret-2", "text")
    assert got.version_stages == ["ACSCurrent"] and got.secret_type == "Generic"
    previous = client.get_secret_value(
        models.GetSecretValueRequest(secret_name="db-password", version_stage="ACSPrevious")
    )
    assert previous.secret_data == "s3cret"


def test_sdk_errors_carry_code_and_http_status(client):
    with pytest.raises(TeaException) as e:
        client.encrypt_with_options(models.EncryptRequest(key_id="alias/nope", plaintext=b"x"), _no_retry())
    assert e.value.code == "Forbidden.KeyNotFound" and e.value.data["httpCode"] == 404
    assert e.value.data["requestId"]


def test_async_path_one_tls_connection_per_call(client, sandbox: SandboxInfo, monkeypatch):
    # The async path ignores ca_file_path and reads SSL_CERT_FILE on each call (dkms-protocol.md §1.3).
    monkeypatch.setenv("SSL_CERT_FILE", str(sandbox.ca_file))

    async def two_calls():
        return await asyncio.gather(
            client.encrypt_async(models.EncryptRequest(key_id="alias/sealtui-default", plaintext=b"a")),
            client.generate_random_async(models.GenerateRandomRequest(length=8)),
        )

    enc, rnd = asyncio.run(two_calls())
    assert enc.key_id == sandbox.default_key_id and len(rnd.random) == 8


def test_real_alibaba_client_key_can_be_registered_and_used(sandbox: SandboxInfo):
    key_id = api.register_client_key(
        sandbox.root_dir, VECTORS / "clientKey_KAAP.gc-test-vector.json", VECTORS / "password_KAAP.gc-test-vector.json"
    )
    assert key_id == "KAAP.gc-test-vector"
    config = Config(
        client_key_file=str(VECTORS / "clientKey_KAAP.gc-test-vector.json"),
        password=(VECTORS / "password_KAAP.gc-test-vector.txt").read_text().rstrip(),
        endpoint=sandbox.endpoint,
        ca_file_path=str(sandbox.ca_file),
    )
    enc = sdk_client.Client(config).encrypt(models.EncryptRequest(key_id="alias/sealtui-default", plaintext=b"x"))
    assert enc.key_id == sandbox.default_key_id


# --- TLS and HTTP ---------------------------------------------------------------------------------------------


def test_server_sends_the_intermediate(sandbox: SandboxInfo):
    # A client trusting only the root must still verify: the server sends leaf + intermediate.
    context = ssl.create_default_context(cafile=str(sandbox.root_dir / "pki" / "root-ca.pem"))
    host, port = sandbox.endpoint.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        with context.wrap_socket(sock, server_hostname=f"{sandbox.kms_instance_id}.cryptoservice.kms.aliyuncs.com"):
            pass


def test_keep_alive_survives_errors_and_every_response_has_content_length(raw: RawKmsClient):
    first = raw.call("GenerateRandom", Length=4)
    sock = raw._conn.sock
    err = raw.call("Encrypt", KeyId="alias/nope", Plaintext=b"x")
    again = raw.call("GenerateRandom", Length=4)
    assert (first.status, err.status, again.status) == (200, 404, 200)
    assert raw._conn.sock is sock  # one connection throughout
    for r in (first, err, again):
        assert int(r.headers["content-length"]) == len(r.body)
        assert r.headers["content-type"] == "application/x-protobuf"
    error = proto.parse("Error", err.body)
    assert error.StatusCode == 404 and error.RequestId and error.ErrorCode == "Forbidden.KeyNotFound"
    assert proto.parse("GenerateRandomResponse", again.body).RequestId


# --- authentication matrix (each with its HTTP status and code) ---------------------------------------------


def _body() -> bytes:
    return proto.serialize("GenerateRandomRequest", Length=8)


def _resign(raw: RawKmsClient, headers: dict[str, str]) -> dict[str, str]:
    headers = dict(headers)
    headers["authorization"] = signing.sign_string(raw.private_key, signing.string_to_sign("POST", headers))
    return headers


def _expect(response, status: int, code: str) -> None:
    assert (response.status, response.error_code) == (status, code), response.error_message


def test_correct_request_passes(raw: RawKmsClient):
    assert raw.send(raw.headers("GenerateRandom", _body()), _body()).status == 200


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"x-kms-apiversion": "dkms-gcs-0.1"}, 400, "InvalidApiVersion"),
        ({"x-kms-signaturemethod": "RSA_PSS_SHA_256"}, 400, "InvalidParam"),
        ({"x-kms-signaturemethod": None}, 400, "InvalidParam"),
        ({"x-kms-acccesskeyid": None}, 400, "MissingParameter"),
        ({"content-type": "application/json"}, 415, "InvalidContentType"),
        ({"date": "yesterday at noon"}, 400, "InvalidParam"),
        ({"date": None}, 400, "InvalidParam"),
        ({"date": -16 * 60}, 400, "RequestTimeTooSkewed"),  # seconds from now, turned into a date below
        ({"date": +16 * 60}, 400, "RequestTimeTooSkewed"),
        ({"date": -14 * 60}, 200, ""),  # within the 15 minutes
        ({"x-kms-acccesskeyid": "KAAP.00000000-0000-0000-0000-000000000000"}, 404, "Unauthorized"),
        ({"x-kms-apiname": "CreateKey"}, 400, "InvalidApiName"),
        ({"x-kms-apiname": "AdvanceEncrypt"}, 400, "InvalidApiName"),
    ],
    ids=lambda v: str(v) if not isinstance(v, dict) else ",".join(f"{k}={v[k]}" for k in v)[:60],
)
def test_header_checks(raw: RawKmsClient, change, status, code):
    headers = raw.headers("GenerateRandom", _body())
    for name, value in change.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = signing.http_date(time.time() + value) if isinstance(value, int) else value
    _expect(raw.send(_resign(raw, headers), _body()), status, code)


def test_bad_signature(raw: RawKmsClient):
    headers = raw.headers("GenerateRandom", _body())
    signature = bytearray(base64.b64decode(headers["authorization"][7:]))
    signature[10] ^= 1
    headers["authorization"] = "Bearer " + base64.b64encode(bytes(signature)).decode()
    _expect(raw.send(headers, _body()), 401, "SignatureNotMatch")


def test_signature_by_another_key(raw: RawKmsClient):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = signing.signed_headers("GenerateRandom", _body(), raw.key_id, other)
    _expect(raw.send(headers, _body()), 401, "SignatureNotMatch")


def test_signed_header_changed_after_signing(raw: RawKmsClient):
    headers = raw.headers("GenerateRandom", _body())
    headers["x-kms-apiname"] = "Encrypt"
    _expect(raw.send(headers, _body()), 401, "SignatureNotMatch")


def test_body_hash_mismatch(raw: RawKmsClient):
    headers = raw.headers("GenerateRandom", _body())
    _expect(raw.send(headers, proto.serialize("GenerateRandomRequest", Length=9)), 401, "SignatureNotMatch")


def test_body_over_3_mb(raw: RawKmsClient):
    body = b"\0" * (3 * 1024 * 1024 + 1)
    response = raw.send(raw.headers("Encrypt", body), body)
    assert response.status == 413
    assert raw.call("GenerateRandom", Length=1).status == 200  # the client reconnects cleanly


def test_other_method_and_path(sandbox: SandboxInfo):
    context = ssl.create_default_context(cafile=str(sandbox.ca_file))
    host, port = sandbox.endpoint.rsplit(":", 1)
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
    conn.request("GET", "/")
    assert conn.getresponse().status == 405
    conn.request("POST", "/other", body=b"")
    assert conn.getresponse().status == 404
    conn.close()


# --- authorisation and key states ----------------------------------------------------------------------------


def test_unknown_key_alias_and_secret(raw: RawKmsClient):
    _expect(raw.call("Encrypt", KeyId="key-doesnotexist", Plaintext=b"x"), 404, "Forbidden.KeyNotFound")
    _expect(raw.call("Sign", KeyId="alias/none", Algorithm="ECDSA_SHA_256", Message=b"m"), 404, "Forbidden.KeyNotFound")
    _expect(raw.call("GetSecretValue", SecretName="no-such-secret"), 404, "Forbidden.ResourceNotFound")


def test_no_permission_is_403_and_grants_are_seen_live(raw: RawKmsClient, sandbox: SandboxInfo):
    key = api.create_key(sandbox.root_dir, grant_to=[])
    _expect(raw.call("Encrypt", KeyId=key.id, Plaintext=b"x"), 403, "Forbidden.NoPermission")
    api.grant(sandbox.root_dir, key.id, operations=["Encrypt"])  # another process than the server
    enc = raw.call("Encrypt", KeyId=key.id, Plaintext=b"x")
    assert enc.status == 200
    blob = enc.message("EncryptResponse")
    decrypt = {"CiphertextBlob": blob.CiphertextBlob, "Iv": blob.Iv}
    _expect(raw.call("Decrypt", KeyId=key.id, **decrypt), 403, "Forbidden.NoPermission")
    _expect(raw.call("Decrypt", **decrypt), 403, "Forbidden.NoPermission")  # found by blob: still checked
    # The CLI, in its own process, revokes; the server sees it at once.
    subprocess.run(
        [sys.executable, "-m", "sealtui", "sandbox", "revoke", key.id, "--root-dir", str(sandbox.root_dir)],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    _expect(raw.call("Encrypt", KeyId=key.id, Plaintext=b"x"), 403, "Forbidden.NoPermission")


def test_secret_without_permission(raw: RawKmsClient, sandbox: SandboxInfo):
    api.put_secret(sandbox.root_dir, "not-yours", b"x", grant_to=[])
    _expect(raw.call("GetSecretValue", SecretName="not-yours"), 403, "Forbidden.NoPermission")


@pytest.mark.parametrize(
    ("state", "code"),
    [
        ("PreActive", "Rejected.Disabled"),
        ("Deactivated", "Rejected.Disabled"),
        ("Compromised", "Rejected.Disabled"),
        ("Destroyed", "Rejected.PendingDeletion"),
        ("Destroyed_Compromised", "Rejected.PendingDeletion"),
    ],
)
def test_key_not_active_is_409(raw: RawKmsClient, sandbox: SandboxInfo, state, code):
    key = api.create_key(sandbox.root_dir, state=state)
    response = raw.call("Encrypt", KeyId=key.id, Plaintext=b"x")
    _expect(response, 409, code)
    assert state in response.error_message
    if state.startswith("Destroyed"):  # terminal: covered in test_sandbox_attacks.py
        return
    api.set_key_state(sandbox.root_dir, key.id, "Active")
    assert raw.call("Encrypt", KeyId=key.id, Plaintext=b"x").status == 200


def test_wrong_key_type(raw: RawKmsClient, sandbox: SandboxInfo):
    _expect(raw.call("Encrypt", KeyId=sandbox.signing_key_id, Plaintext=b"x"), 400, "InvalidParameter")
    _expect(
        raw.call("Sign", KeyId=sandbox.default_key_id, Algorithm="ECDSA_SHA_256", Message=b"m"), 400, "InvalidParameter"
    )
    _expect(raw.call("GetPublicKey", KeyId=sandbox.default_key_id), 400, "InvalidParameter")
    _expect(raw.call("GenerateDataKey", KeyId=sandbox.signing_key_id), 400, "InvalidParameter")


def test_decrypt_failures(raw: RawKmsClient, sandbox: SandboxInfo):
    enc = raw.call("Encrypt", KeyId=sandbox.default_key_id, Plaintext=b"secret", Aad=b"aad").message("EncryptResponse")
    blob, iv = bytes(enc.CiphertextBlob), bytes(enc.Iv)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    _expect(raw.call("Decrypt", CiphertextBlob=tampered, Iv=iv, Aad=b"aad"), 400, "InvalidParameter")
    _expect(raw.call("Decrypt", CiphertextBlob=blob, Iv=iv, Aad=b"other"), 400, "InvalidParameter")
    other = api.create_key(sandbox.root_dir)
    _expect(raw.call("Decrypt", KeyId=other.id, CiphertextBlob=blob, Iv=iv, Aad=b"aad"), 400, "InvalidParameter")
    forged = uuid.uuid4().bytes + blob[16:]
    _expect(raw.call("Decrypt", CiphertextBlob=forged, Iv=iv, Aad=b"aad"), 400, "InvalidParameter")
    wrong_version = {"x-kms-migrationkeyversionid": str(uuid.uuid4())}
    body = proto.serialize("DecryptRequest", CiphertextBlob=blob, Iv=iv, Aad=b"aad")
    _expect(raw.send(raw.headers("Decrypt", body, extra=wrong_version), body), 400, "InvalidParameter")
    right = raw.call("Decrypt", CiphertextBlob=blob, Iv=iv, Aad=b"aad")
    assert right.message("DecryptResponse").Plaintext == b"secret"


def test_parameter_checks(raw: RawKmsClient, sandbox: SandboxInfo):
    key = sandbox.default_key_id
    _expect(raw.call("Encrypt", KeyId=key, Plaintext=b"x", Iv=b"short"), 400, "InvalidParameter")
    _expect(raw.call("Encrypt", KeyId=key, Plaintext=b"x", Algorithm="AES_CBC"), 400, "InvalidParameter")
    _expect(raw.call("GenerateRandom", Length=5000), 400, "InvalidParameter")
    _expect(raw.call("GenerateDataKey", KeyId=key, NumberOfBytes=2000), 400, "InvalidParameter")
    sign = {"KeyId": sandbox.signing_key_id, "Message": b"m"}
    _expect(raw.call("Sign", Algorithm="RSA_PSS_SHA_256", **sign), 400, "InvalidParameter")
    _expect(raw.call("Sign", Algorithm="ECDSA_SHA_256", MessageType="DIGEST", **sign), 400, "InvalidParameter")
    body = b"\xff\xff\xff"  # not protobuf
    _expect(raw.send(raw.headers("Encrypt", body), body), 400, "InvalidParameter")


def test_digest_field_is_accepted_for_other_clients(raw: RawKmsClient, sandbox: SandboxInfo):
    digest = hashlib.sha256(b"m").digest()
    signed = raw.call("Sign", KeyId=sandbox.signing_key_id, Algorithm="ECDSA_SHA_256", Digest=digest)
    signature = signed.message("SignResponse").Signature
    ok = raw.call("Verify", KeyId=sandbox.signing_key_id, Algorithm="ECDSA_SHA_256", Message=b"m", Signature=signature)
    assert ok.message("VerifyResponse").Value is True


def test_status_reports_the_running_server(sandbox: SandboxInfo):
    status = api.load_status(Path(sandbox.root_dir))
    assert status.running and status.endpoint == sandbox.endpoint

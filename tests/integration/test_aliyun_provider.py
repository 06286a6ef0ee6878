"""`AliyunKms` with the unmodified SDK over TLS against the sandbox: every operation and every error mapping.

No mocks: the SDK talks to the sandbox (a separate process), and failures are provoked for real (a key with no
grant, a deactivated key, an unknown client key, the wrong CA bundle, a closed port, a socket that never
answers).
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils

from sealtui import sandbox as api
from sealtui.core.credentials import AliyunCredentials, ClientKey, find_credentials, load_credentials
from sealtui.core.envelope import open_envelope, seal_envelope
from sealtui.core.errors import CredentialError, ProviderError, UsageError
from sealtui.core.keywrap import KeyWrapper, Signer
from tests.paths import ALIYUN
from tests.sandbox_support import ROOT, SandboxInfo

aliyun = pytest.importorskip("sealtui.providers.aliyun")
AliyunKms, AliyunKmsSigner, KmsTransportError = aliyun.AliyunKms, aliyun.AliyunKmsSigner, aliyun.KmsTransportError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

VECTORS = ALIYUN
DEFAULT = "alias/sealtui-default"
SIGNING = "alias/sealtui-signing"


@pytest.fixture(scope="module")
def creds(sandbox: SandboxInfo) -> AliyunCredentials:
    return find_credentials(sandbox.credentials_dir)


@pytest.fixture(scope="module")
def kms(sandbox: SandboxInfo, creds: AliyunCredentials):
    return AliyunKms(creds, DEFAULT, endpoint=sandbox.endpoint)


def _alias(prefix: str) -> str:
    return f"alias/{prefix}-{uuid.uuid4().hex[:8]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- operations ---------------------------------------------------------------------------------------------


def test_implements_the_core_protocols(kms):
    assert isinstance(kms, KeyWrapper) and kms.provider == "aliyun"
    assert isinstance(AliyunKmsSigner(kms, SIGNING, "kid"), Signer)


def test_wrap_unwrap_round_trip(kms, sandbox: SandboxInfo):
    dek = os.urandom(32)
    wrapped = kms.wrap_key(dek)
    assert wrapped.key_id == sandbox.default_key_id  # the resolved KeyId, not the alias
    assert wrapped.provider_settings == {
        "client_key_id": sandbox.client_key_id,
        "kms_instance_id": sandbox.kms_instance_id,
        "client_type": "client_key",
    }
    assert len(base64.b64decode(wrapped.annotations["iv"], validate=True)) == 12
    assert kms.unwrap_key(wrapped.key_id, wrapped.encrypted_key, wrapped.provider_settings, wrapped.annotations) == dek


def test_envelope_through_the_core(kms):
    payload = seal_envelope(b"secret \x00\xff data", kms)
    assert payload.provider == "aliyun" and payload.annotations and "iv" in payload.annotations
    assert open_envelope(payload, kms) == b"secret \x00\xff data"


def test_encrypt_decrypt_and_aad(kms):
    res = kms.encrypt(b"hello", aad=b"ctx")
    assert kms.decrypt(res.ciphertext_blob, res.iv, res.key_id, aad=b"ctx") == b"hello"
    with pytest.raises(ProviderError) as e:
        kms.decrypt(res.ciphertext_blob, res.iv, res.key_id, aad=b"other")
    assert e.value.code == "InvalidParameter" and "sealed with this key" in (e.value.fix or "")


def test_generate_data_key(kms):
    dk = kms.generate_data_key(number_of_bytes=32)
    assert len(dk.plaintext) == 32
    assert kms.decrypt(dk.ciphertext_blob, dk.iv, dk.key_id) == dk.plaintext


def test_generate_random(kms):
    assert len(kms.generate_random(24)) == 24


def test_get_secret_value(kms, sandbox: SandboxInfo):
    name = f"db-{uuid.uuid4().hex[:8]}"
    version = api.put_secret(sandbox.root_dir, name, "s3cret")
    sv = kms.get_secret_value(name)
    assert (sv.name, sv.data, sv.version_id, sv.version_stages) == (name, "s3cret", version, ["ACSCurrent"])
    assert kms.get_secret_value(name, version_stage="ACSCurrent").data == "s3cret"
    assert kms.get_secret_value(name, version_id=version).data == "s3cret"
    with pytest.raises(ProviderError) as e:
        kms.get_secret_value(f"missing-{uuid.uuid4().hex[:8]}")
    assert "does not exist" in e.value.message


def test_sign_and_public_key(kms, sandbox: SandboxInfo):
    der = kms.sign(SIGNING, b"message")
    pem = kms.get_public_key(SIGNING)
    pub = serialization.load_pem_public_key(pem.encode())
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    pub.verify(der, b"message", ec.ECDSA(hashes.SHA256()))


def test_kms_signer_raw_signature_and_jwk(kms):
    signer = AliyunKmsSigner(kms, SIGNING, "kms-kid")
    sig = signer.sign(b"header.payload")
    assert len(sig) == 64
    jwk = signer.public_jwk()
    assert (jwk["kty"], jwk["crv"], jwk["kid"], jwk["alg"]) == ("EC", "P-256", "kms-kid", "ES256")

    def num(v: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)), "big")

    pub = ec.EllipticCurvePublicNumbers(num(jwk["x"]), num(jwk["y"]), ec.SECP256R1()).public_key()
    der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    pub.verify(der, b"header.payload", ec.ECDSA(hashes.SHA256()))


def test_signer_refuses_a_symmetric_key(kms):
    with pytest.raises(ProviderError):
        AliyunKmsSigner(kms, DEFAULT, "k").public_jwk()


def test_key_uri_sets_endpoint(sandbox: SandboxInfo, creds):
    uri = f"alibabakms://{sandbox.endpoint}/{sandbox.kms_instance_id}/{DEFAULT}"
    kms = AliyunKms(creds, uri)
    assert kms.endpoint == sandbox.endpoint
    assert kms.wrap_key(os.urandom(32)).key_id == sandbox.default_key_id
    with pytest.raises(UsageError, match="names KMS instance kst-other"):
        AliyunKms(creds, f"alibabakms://{sandbox.endpoint}/kst-other/{DEFAULT}")


def test_default_endpoint_is_the_instance_name(creds):
    kms = AliyunKms(creds, DEFAULT)
    assert kms.endpoint == f"{creds.kms_instance_id}.cryptoservice.kms.aliyuncs.com"
    assert AliyunKms(creds, endpoint="https://127.0.0.1:9/").endpoint == "127.0.0.1:9"
    with pytest.raises(UsageError):
        AliyunKms(creds, endpoint="http://127.0.0.1:9")


def test_unwrap_refuses_another_instance(kms):
    with pytest.raises(CredentialError, match="sealed with KMS instance kst-elsewhere"):
        kms.unwrap_key("key-1", b"x", {"kms_instance_id": "kst-elsewhere"}, {"iv": "AAAAAAAAAAAAAAAA"})


def test_one_client_from_many_threads(kms):
    """One AliyunKms shared by a pool (the bulk-sealing pattern): every round trip must come back intact."""

    def round_trip(i: int) -> bool:
        data = i.to_bytes(4, "big") * 8
        res = kms.encrypt(data)
        return kms.decrypt(res.ciphertext_blob, res.iv, res.key_id) == data

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(round_trip, range(200)))


# --- KMS refusals -------------------------------------------------------------------------------------------


def test_no_permission(kms, sandbox: SandboxInfo):
    alias = _alias("nogrant")
    api.create_key(sandbox.root_dir, alias=alias, grant_to=[])
    with pytest.raises(ProviderError) as e:
        kms.encrypt(b"x", alias)
    assert e.value.code == "Forbidden.NoPermission"
    assert sandbox.client_key_id in e.value.message and alias in e.value.message and e.value.fix


@pytest.mark.parametrize(("state", "code"), [("Deactivated", "Rejected.Disabled"), ("PreActive", None)])
def test_disabled_key(kms, sandbox: SandboxInfo, state, code):
    alias = _alias("off")
    api.create_key(sandbox.root_dir, alias=alias, state=state)
    with pytest.raises(ProviderError) as e:
        kms.encrypt(b"x", alias)
    assert e.value.code and e.value.code.startswith("Rejected.")
    if code:
        assert e.value.code == code and "is disabled" in e.value.message
    assert e.value.fix


def test_key_not_found(kms, sandbox: SandboxInfo):
    with pytest.raises(ProviderError) as e:
        kms.encrypt(b"x", "alias/does-not-exist")
    assert e.value.code == "Forbidden.KeyNotFound" and sandbox.kms_instance_id in e.value.message


def test_unknown_client_key(sandbox: SandboxInfo, creds):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger = AliyunCredentials(ClientKey("KAAP.stranger", key, None), creds.ca_file, creds.kms_instance_id)
    with pytest.raises(ProviderError) as e:
        AliyunKms(stranger, DEFAULT, endpoint=sandbox.endpoint).wrap_key(os.urandom(32))
    assert e.value.code == "Unauthorized" and "KAAP.stranger" in e.value.message
    assert "register-client-key" in (e.value.fix or "")


def test_client_key_that_does_not_match(sandbox: SandboxInfo, creds):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    impostor = AliyunCredentials(ClientKey(sandbox.client_key_id, key, None), creds.ca_file, creds.kms_instance_id)
    with pytest.raises(ProviderError) as e:
        AliyunKms(impostor, DEFAULT, endpoint=sandbox.endpoint).wrap_key(os.urandom(32))
    assert e.value.code == "SignatureNotMatch"


# --- transport failures -------------------------------------------------------------------------------------


def _wrong_ca(creds: AliyunCredentials, tmp_path: Path) -> AliyunCredentials:
    ca = Path(shutil.copy(VECTORS / "PrivateKmsCA_kst-bjj6____.pem", tmp_path / "PrivateKmsCA_kst-x.pem"))
    return AliyunCredentials(creds.client_key, ca, creds.kms_instance_id)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_wrong_ca_is_a_trust_failure(sandbox: SandboxInfo, creds, kms, tmp_path, host):
    kms.wrap_key(os.urandom(32))  # the right CA was used for this host:port in this process first
    endpoint = f"{host}:{sandbox.endpoint.rsplit(':', 1)[1]}"
    with pytest.raises(KmsTransportError) as e:
        AliyunKms(_wrong_ca(creds, tmp_path), DEFAULT, endpoint=endpoint, retries=0).wrap_key(os.urandom(32))
    assert e.value.reason == "trust" and "not signed by the CA bundle" in e.value.message
    assert "PrivateKmsCA_" in (e.value.fix or "")


def test_ca_bundle_gone_after_loading(sandbox: SandboxInfo, creds, tmp_path):
    gone = AliyunCredentials(creds.client_key, tmp_path / "PrivateKmsCA_kst-gone.pem", creds.kms_instance_id)
    with pytest.raises(KmsTransportError) as e:
        AliyunKms(gone, DEFAULT, endpoint=sandbox.endpoint, retries=0).wrap_key(os.urandom(32))
    assert e.value.reason == "trust" and "cannot be read" in e.value.message


def test_sdk_alone_trusts_a_wrong_ca_after_a_good_call(sandbox: SandboxInfo, tmp_path):
    """Why AliyunKms gives the SDK its own TLS context (test_provider_tls): the SDK's context for a host:port is
    shared by the whole process and accumulates every CA file used there.

    Run in a fresh process so that the order of calls is known.
    """
    wrong = shutil.copy(VECTORS / "PrivateKmsCA_kst-bjj6____.pem", tmp_path / "wrong.pem")
    code = f"""
from openapi.models import Config; from sdk.client import Client; from sdk import models
from openapi_util.models import RuntimeOptions
def call(ca):
    c = Client(Config(client_key_file={str(sandbox.client_key_file)!r}, password={sandbox.password!r},
                      endpoint={sandbox.endpoint!r}, ca_file_path=ca))
    try:
        req = models.EncryptRequest(key_id={DEFAULT!r}, plaintext=b"x")
        c.encrypt_with_options(req, RuntimeOptions(autoretry=False))
        return "ok"
    except Exception as e:
        return "fail"
print(call({str(wrong)!r}), call({str(sandbox.ca_file)!r}), call({str(wrong)!r}))
"""
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["fail", "ok", "ok"]  # the third call should fail, and does not


def test_closed_port_is_unreachable(creds):
    endpoint = f"127.0.0.1:{_free_port()}"
    with pytest.raises(KmsTransportError) as e:
        AliyunKms(creds, DEFAULT, endpoint=endpoint, retries=0).wrap_key(os.urandom(32))
    assert e.value.reason == "unreachable" and endpoint in e.value.message and e.value.fix


def test_closed_port_with_the_default_retry(creds):
    with pytest.raises(KmsTransportError) as e:
        AliyunKms(creds, DEFAULT, endpoint=f"127.0.0.1:{_free_port()}").wrap_key(os.urandom(32))
    assert e.value.reason == "unreachable"


def test_unresolvable_host(creds):
    with pytest.raises(KmsTransportError) as e:
        AliyunKms(creds, DEFAULT, endpoint="kst-none.invalid:443", retries=0).wrap_key(os.urandom(32))
    assert e.value.reason == "unreachable" and "resolve" in e.value.message


def test_server_that_never_answers_times_out(creds):
    with socket.socket() as hole:  # the kernel completes the TCP handshake; nobody ever answers TLS
        hole.bind(("127.0.0.1", 0))
        hole.listen(8)
        endpoint = f"127.0.0.1:{hole.getsockname()[1]}"
        kms = AliyunKms(creds, DEFAULT, endpoint=endpoint, retries=0, connect_timeout=0.3, read_timeout=0.3)
        with pytest.raises(KmsTransportError) as e:
            kms.wrap_key(os.urandom(32))
    assert e.value.reason == "timeout" and "did not answer in time" in e.value.message


# --- check_connection ---------------------------------------------------------------------------------------


def test_check_connection_all_ok(kms):
    report = kms.check_connection()
    assert report.ok and [s.name for s in report.steps] == ["reachability", "trust", "client_key", "permission"]


def test_check_connection_names_what_failed(sandbox: SandboxInfo, creds, tmp_path):
    closed = AliyunKms(creds, endpoint=f"127.0.0.1:{_free_port()}").check_connection()
    assert closed.failed == "reachability" and [s.status for s in closed.steps][1:] == ["skipped", "skipped"]
    assert AliyunKms(_wrong_ca(creds, tmp_path), endpoint=sandbox.endpoint).check_connection().failed == "trust"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger = AliyunCredentials(ClientKey("KAAP.nobody", key, None), creds.ca_file, creds.kms_instance_id)
    assert AliyunKms(stranger, endpoint=sandbox.endpoint).check_connection().failed == "client_key"
    alias = _alias("noperm")
    api.create_key(sandbox.root_dir, alias=alias, grant_to=[])
    report = AliyunKms(creds, alias, endpoint=sandbox.endpoint).check_connection()
    assert report.failed == "permission" and "no permission" in report.steps[-1].message


# --- the real Alibaba client key ----------------------------------------------------------------------------


def test_real_alibaba_client_key_registered_with_the_sandbox(sandbox: SandboxInfo):
    client_key = VECTORS / "clientKey_KAAP.gc-test-vector.json"
    password = VECTORS / "password_KAAP.gc-test-vector.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "sealtui", "sandbox", "register-client-key", "--root-dir", str(sandbox.root_dir),
           "--client-key-file", str(client_key), "--password-file", str(password)]  # fmt: skip
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    creds = load_credentials(client_key, VECTORS / "password_KAAP.gc-test-vector.txt", sandbox.ca_file)
    assert creds.client_key.key_id == "KAAP.gc-test-vector"
    assert creds.kms_instance_id == sandbox.kms_instance_id  # from the CA file name
    kms = AliyunKms(creds, DEFAULT, endpoint=sandbox.endpoint)
    payload = seal_envelope(b"sealed with Alibaba's own client key", kms)
    assert payload.provider_settings["client_key_id"] == "KAAP.gc-test-vector"
    assert open_envelope(payload, kms) == b"sealed with Alibaba's own client key"
    # the sandbox's own client key may open it too (it is granted the same default key)
    own = AliyunKms(find_credentials(sandbox.credentials_dir), endpoint=sandbox.endpoint)
    assert open_envelope(payload, own) == b"sealed with Alibaba's own client key"


def test_a_shared_gateway_in_a_key_uri_is_not_used_as_the_instance_endpoint(sandbox):
    """`alibabakms://kms.<region>.aliyuncs.com//alias/x` (the sigstore form) names the region's shared gateway;
    the KMS-instance API lives at `<instance>.cryptoservice.kms.aliyuncs.com`, which the credentials name."""
    from sealtui.core.credentials import find_credentials

    creds = find_credentials(sandbox.credentials_dir)
    kms = AliyunKms(creds, "alibabakms://kms.cn-beijing.aliyuncs.com//alias/seal")
    assert kms.endpoint == f"{creds.kms_instance_id}.cryptoservice.kms.aliyuncs.com"
    own = AliyunKms(creds, f"alibabakms://127.0.0.1:9/{creds.kms_instance_id}/alias/seal")
    assert own.endpoint == "127.0.0.1:9"  # any other endpoint in the URI is the one to use


# --- the SDK's import and its other users -------------------------------------------------------------------


def test_the_sdk_is_imported_without_aiohttp_and_its_async_path_still_works(sandbox: SandboxInfo):
    """aiohttp (only the SDK's async path uses it) is not imported with the provider; the async path, and anyone
    importing aiohttp later, get the real module. In a fresh process, as a user's would be."""
    code = f"""
import asyncio, sys
import sealtui.providers.aliyun
assert "aiohttp" not in sys.modules, "aiohttp was imported with the provider"
from openapi.models import Config; from sdk.client import Client; from sdk import models
from openapi_util.models import RuntimeOptions
client = Client(Config(client_key_file={str(sandbox.client_key_file)!r}, password={sandbox.password!r},
                       endpoint={sandbox.endpoint!r}))
req = models.GenerateRandomRequest(length=8)
res = asyncio.run(client.generate_random_with_options_async(req, RuntimeOptions(autoretry=False)))
import aiohttp, aiohttp.web, Tea.core
assert type(sys.modules["aiohttp"]) is type(sys), "a stand-in was left in sys.modules"
assert Tea.core.aiohttp.ClientSession is aiohttp.ClientSession
print(len(res.random))
"""
    # The async path ignores ca_file_path; SSL_CERT_FILE is how it trusts a private CA (dkms-protocol.md §1.3).
    env = dict(os.environ, SSL_CERT_FILE=str(sandbox.ca_file), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["8"]


def test_the_sdk_is_imported_without_asyncio_and_its_async_path_still_works(sandbox: SandboxInfo):
    """asyncio (the SDK imports it for `asyncio.sleep` in its async functions) is not imported with the provider
    either; asyncio imported afterwards is the real module, and the SDK's async retry sleeps with it."""
    code = f"""
import sys
import sealtui.providers.aliyun
assert "asyncio" not in sys.modules, "asyncio was imported with the provider"
import asyncio
assert type(sys.modules["asyncio"]) is type(sys), "a stand-in was left in sys.modules"
import Tea.core, alibabacloud_tea_util.client as util
assert Tea.core.asyncio.sleep is asyncio.sleep and util.asyncio.sleep is asyncio.sleep
asyncio.run(util.Client.sleep_async(1))
from openapi.models import Config; from sdk.client import Client; from sdk import models
from openapi_util.models import RuntimeOptions
client = Client(Config(client_key_file={str(sandbox.client_key_file)!r}, password={sandbox.password!r},
                       endpoint={sandbox.endpoint!r}))
req = models.GenerateRandomRequest(length=8)
res = asyncio.run(client.generate_random_with_options_async(req, RuntimeOptions(autoretry=False)))
print(len(res.random))
"""
    env = dict(os.environ, SSL_CERT_FILE=str(sandbox.ca_file), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["8"]


def test_the_sdk_used_directly_keeps_its_own_behaviour(sandbox: SandboxInfo, kms):
    """Requests outside an AliyunKms call (someone using the SDK directly) go through the SDK's own adapter."""
    from openapi.models import Config
    from openapi_util.models import RuntimeOptions
    from sdk import models
    from sdk.client import Client

    kms.generate_random(8)  # sealtui's adapter is mounted on the SDK's session for this endpoint
    direct = Client(Config(client_key_file=str(sandbox.client_key_file), password=sandbox.password,
                           endpoint=sandbox.endpoint, ca_file_path=str(sandbox.ca_file)))  # fmt: skip
    res = direct.encrypt_with_options(models.EncryptRequest(key_id=DEFAULT, plaintext=b"x"), RuntimeOptions())
    assert kms.decrypt(res.ciphertext_blob, res.iv, res.key_id) == b"x"

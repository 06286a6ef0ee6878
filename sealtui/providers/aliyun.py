"""The Alibaba Cloud KMS-instance provider, over the official SDK `alibabacloud-dkms-gcs` (DESIGN §4).

It uses the SDK's **sync** path (the async path ignores any CA bundle and opens a TLS connection per call), with
bounded timeouts and retries, and a credential object that signs with the RSA key `sealtui.core.credentials`
already parsed: the SDK's own client-key path re-parses the key on every request (~40 ms a call). The SDK builds
and signs every request; `aliyun_sdk` imports it and makes every connection it opens trust only this instance's
CA bundle, through one SSL context per `AliyunKms` (the SDK is not given `ca_file_path`: should its connections
ever bypass that context, the system store and certifi alone cannot verify a private KMS CA, so they fail).

Thread safety: one `AliyunKms` may be used from several threads. The SDK client keeps no per-call state (each
call builds its request in locals); connections come from `requests` sessions that the SDK caches per
`https://host:port` (urllib3 pools are thread-safe); our credential only reads an immutable key.

Example:
    >>> kms = AliyunKms(find_credentials(Path("creds")), "alias/k", endpoint="127.0.0.1:9998")  # doctest: +SKIP
    >>> wrapped = kms.wrap_key(os.urandom(32))  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import binascii
import re
import socket
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from google.protobuf.message import DecodeError

from sealtui.core.credentials import AliyunCredentials, ClientKey, load_ca_bundle, not_after, not_before
from sealtui.core.errors import CredentialError, InvalidInputError, ProviderError, SealtuiError, UsageError
from sealtui.core.keyref import KeyRef, parse_key_ref
from sealtui.core.keywrap import WrappedKey
from sealtui.providers.aliyun_endpoint import default_endpoint, host_port, normalize_endpoint
from sealtui.providers.aliyun_errors import KmsTransportError, OutOfDate, kms_error, transport_error
from sealtui.providers.aliyun_results import (
    ConnectionReport,
    ConnectionStep,
    DataKey,
    EncryptResult,
    SecretValue,
    StepName,
)
from sealtui.providers.aliyun_sdk import (
    Client,
    Config,
    InstanceTrust,
    RuntimeOptions,
    TeaException,
    UnretryableException,
    install_trust_adapter,
    sdk_call,
    sdk_models,
)
from sealtui.providers.aliyun_signer import AliyunKmsSigner

__all__ = [
    "AliyunKms",
    "AliyunKmsSigner",
    "ClientKeyCredential",
    "ConnectionReport",
    "DataKey",
    "EncryptResult",
    "KmsTransportError",
    "SecretValue",
    "default_endpoint",
    "normalize_endpoint",
]

T = TypeVar("T")
_SHARED_GATEWAY = re.compile(r"kms(-vpc)?\.[a-z0-9-]+\.aliyuncs\.com(:443)?")
"""A region's shared KMS gateway (`kms.cn-hangzhou.aliyuncs.com`), as sigstore's `alibabakms://` URIs name it."""


class ClientKeyCredential:
    """The credential the SDK's `openapi.Client` calls: `get_access_key_id()` and `get_signature(str)`.

    It holds the already-parsed RSA key, so signing a request costs ~0.4 ms instead of the SDK's ~40 ms
    re-parse. The signature is RSASSA-PKCS1-v1_5/SHA-256 over the UTF-8 string-to-sign, sent as
    `Bearer <base64>` (dkms-protocol §3.2).
    """

    def __init__(self, client_key: ClientKey) -> None:
        self._key_id = client_key.key_id
        self._private_key = client_key.private_key

    def get_access_key_id(self) -> str:
        """The client key id, sent as `x-kms-acccesskeyid`."""
        return self._key_id

    def get_signature(self, string_to_sign: str) -> str:
        """The `authorization` header value for one request."""
        sig = self._private_key.sign(string_to_sign.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return "Bearer " + base64.b64encode(sig).decode("ascii")


class AliyunKms:
    """A KMS instance reached with a client key; implements `KeyWrapper` (provider `aliyun`).

    `key` is the default key for `wrap_key`/`encrypt`/…: a key id, `alias/…` or an `alibabakms://` URI. The
    endpoint defaults to the URI's, else to `<instance>.cryptoservice.kms.aliyuncs.com`. Timeouts are in
    seconds; `retries` extra attempts are made on transport errors and throttling, `backoff_seconds` apart.
    """

    provider = "aliyun"

    def __init__(
        self,
        credentials: AliyunCredentials,
        key: str | KeyRef | None = None,
        *,
        endpoint: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        retries: int = 1,
        backoff_seconds: int = 1,
    ) -> None:
        self.credentials = credentials
        self.key_ref = parse_key_ref(key) if isinstance(key, str) else key
        instance = credentials.kms_instance_id
        if self.key_ref and self.key_ref.kms_instance_id and self.key_ref.kms_instance_id != instance:
            raise UsageError(
                f"the key URI names KMS instance {self.key_ref.kms_instance_id}, the credentials are for {instance}",
                fix="use the credentials of the instance holding the key",
            )
        uri_endpoint = self.key_ref.endpoint if self.key_ref else None
        if uri_endpoint and _SHARED_GATEWAY.fullmatch(uri_endpoint):
            # A sigstore-style URI names the region's shared KMS gateway; the KMS-instance API this provider
            # speaks is served only at the instance's own endpoint, which the credentials name.
            uri_endpoint = None
        self.endpoint = normalize_endpoint(endpoint or uri_endpoint or default_endpoint(instance))
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._client = Client(
            Config(
                credential=ClientKeyCredential(credentials.client_key),
                endpoint=self.endpoint,
                connect_timeout=int(connect_timeout * 1000),
                read_timeout=int(read_timeout * 1000),
            )
        )
        self._trust = InstanceTrust(credentials.ca_file)
        # One immutable RuntimeOptions shared by all calls and threads. The SDK's default is 3 retries 1 s
        # apart and 10 s reads: 43 s against a hung server; keep the worst case to seconds.
        self._runtime = RuntimeOptions(
            autoretry=retries > 0,
            max_attempts=retries,
            backoff_policy="yes" if backoff_seconds > 0 else "no",
            backoff_period=max(int(backoff_seconds), 0),
        )
        self._diagnosis_runtime = RuntimeOptions(autoretry=False, max_attempts=0, backoff_policy="no")

    # --- KeyWrapper ---------------------------------------------------------------------------------------

    @property
    def provider_settings(self) -> dict[str, Any]:
        """What CDH needs to reach this instance (the payload's `provider_settings`)."""
        return {
            "client_key_id": self.credentials.client_key.key_id,
            "kms_instance_id": self.credentials.kms_instance_id,
            "client_type": "client_key",
        }

    def wrap_key(self, data_key: bytes) -> WrappedKey:
        """Encrypt `data_key` under the default key; `annotations.iv` carries the KMS-returned IV."""
        res = self.encrypt(data_key)
        return WrappedKey(
            key_id=res.key_id,
            encrypted_key=res.ciphertext_blob,
            provider_settings=self.provider_settings,
            annotations={"iv": base64.b64encode(res.iv).decode("ascii")},
        )

    def unwrap_key(
        self, key_id: str, encrypted_key: bytes, provider_settings: dict[str, Any], annotations: dict[str, Any]
    ) -> bytes:
        """Decrypt a data key as CDH does: `Decrypt(key_id, encrypted_key, annotations.iv)`, AES_GCM."""
        sealed_instance = provider_settings.get("kms_instance_id")
        if sealed_instance and sealed_instance != self.credentials.kms_instance_id:
            raise CredentialError(
                f"the secret was sealed with KMS instance {sealed_instance}, the credentials are "
                f"for {self.credentials.kms_instance_id}",
                fix=f"use the credentials (client key, CA bundle) of {sealed_instance}",
            )
        iv_text = annotations.get("iv")
        if not isinstance(iv_text, str) or not iv_text:
            raise InvalidInputError("the payload has no annotations.iv", fix="aliyun envelopes carry the KMS IV there")
        try:
            iv = base64.b64decode(iv_text, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInputError("annotations.iv is not standard base64") from None
        return self.decrypt(encrypted_key, iv, key_id)

    # --- KMS operations -----------------------------------------------------------------------------------

    def _key(self, key: str | KeyRef | None) -> str:
        ref = parse_key_ref(key) if isinstance(key, str) else (key or self.key_ref)
        if ref is None:
            raise UsageError("no KMS key given", fix="give a key id, alias/<name> or alibabakms:// URI")
        return ref.key

    def encrypt(self, plaintext: bytes, key: str | KeyRef | None = None, *, aad: bytes | None = None) -> EncryptResult:
        """`Encrypt` with the key (default: this instance's key); AES_GCM, the KMS picks the IV."""
        k = self._key(key)
        req = sdk_models.EncryptRequest(key_id=k, plaintext=plaintext, algorithm="AES_GCM", aad=aad)
        r = self._call("Encrypt", self._client.encrypt_with_options, req, f"key {k}")
        return EncryptResult(r.key_id or k, r.ciphertext_blob, r.iv)

    def decrypt(
        self, ciphertext_blob: bytes, iv: bytes, key: str | KeyRef | None = None, *, aad: bytes | None = None
    ) -> bytes:
        """`Decrypt` (AES_GCM) what `encrypt` returned."""
        k = self._key(key)
        req = sdk_models.DecryptRequest(ciphertext_blob=ciphertext_blob, key_id=k, algorithm="AES_GCM", aad=aad, iv=iv)
        return bytes(self._call("Decrypt", self._client.decrypt_with_options, req, f"key {k}").plaintext)

    def generate_data_key(self, key: str | KeyRef | None = None, number_of_bytes: int = 32) -> DataKey:
        """`GenerateDataKey`: a random key, plain and encrypted under `key` (decrypt it with `decrypt`)."""
        k = self._key(key)
        req = sdk_models.GenerateDataKeyRequest(key_id=k, algorithm="AES_GCM", number_of_bytes=number_of_bytes)
        r = self._call("GenerateDataKey", self._client.generate_data_key_with_options, req, f"key {k}")
        return DataKey(r.key_id or k, r.plaintext, r.ciphertext_blob, r.iv)

    def get_secret_value(
        self, name: str, version_stage: str | None = None, version_id: str | None = None
    ) -> SecretValue:
        """`GetSecretValue` (what CDH's aliyun vault provider calls)."""
        req = sdk_models.GetSecretValueRequest(
            secret_name=name, version_stage=version_stage, version_id=version_id, fetch_extended_config=True
        )
        r = self._call("GetSecretValue", self._client.get_secret_value_with_options, req, f"secret {name}")
        return SecretValue(
            r.secret_name or name,
            r.secret_data,
            r.version_id,
            list(r.version_stages or []),
            r.secret_type,
            r.secret_data_type,
        )

    def read_secret(self, name: str, provider_settings: dict[str, Any], annotations: dict[str, Any]) -> bytes:
        """A vault secret's value as CDH reads it: `GetSecretValue` with the payload's version annotations,
        `SecretData` as bytes."""
        stage, version = annotations.get("version_stage"), annotations.get("version_id")
        value = self.get_secret_value(name, stage if isinstance(stage, str) else None,
                                      version if isinstance(version, str) else None)
        return value.data.encode("utf-8")

    def get_public_key(self, key: str | KeyRef | None = None) -> str:
        """`GetPublicKey`: the PEM SubjectPublicKeyInfo of an asymmetric key."""
        k = self._key(key)
        req = sdk_models.GetPublicKeyRequest(key_id=k)
        return str(self._call("GetPublicKey", self._client.get_public_key_with_options, req, f"key {k}").public_key)

    def sign(self, key: str | KeyRef | None, message: bytes, algorithm: str = "ECDSA_SHA_256") -> bytes:
        """`Sign` the raw `message` (the KMS hashes it); returns what the KMS returns (DER for ECDSA)."""
        k = self._key(key)
        req = sdk_models.SignRequest(key_id=k, algorithm=algorithm, message=message, message_type="RAW")
        return bytes(self._call("Sign", self._client.sign_with_options, req, f"key {k}").signature)

    def generate_random(self, length: int = 32) -> bytes:
        """`GenerateRandom`: `length` random bytes from the KMS."""
        req = sdk_models.GenerateRandomRequest(length=length)
        return bytes(
            self._call("GenerateRandom", self._client.generate_random_with_options, req, "GenerateRandom").random
        )

    # --- errors -------------------------------------------------------------------------------------------

    def _call(
        self,
        op: str,
        method: Callable[[Any, RuntimeOptions], T],
        request: Any,
        subject: str,
        runtime: RuntimeOptions | None = None,
    ) -> T:
        try:
            context = self._trust.context()
        except (OSError, ssl.SSLError):
            raise self._transport_error("could not find a suitable TLS CA certificate bundle") from None
        install_trust_adapter(self.endpoint)
        with sdk_call(context) as call:
            try:
                result = method(request, runtime or self._runtime)
            except UnretryableException as e:  # retries exhausted (subclass of TeaException: catch first)
                inner = e.inner_exception
                if isinstance(inner, TeaException):
                    raise self._kms_error(op, inner, subject) from None
                raise self._transport_error(str(getattr(inner, "message", inner))) from None
            except TeaException as e:
                raise self._kms_error(op, e, subject) from None
            except DecodeError:
                raise ProviderError(
                    f"{self.endpoint} answered {op} with something that is not a KMS response",
                    fix="check that --endpoint is a KMS instance endpoint",
                ) from None
        if not call.sent:  # the SDK's HTTP layer changed: refuse an answer that came over unchecked TLS
            raise KmsTransportError(
                f"KMS {op} at {self.endpoint}: the SDK sent the request without sealtui's TLS trust settings",
                reason="trust",
                fix="use the SDK version sealtui pins (alibabacloud-dkms-gcs 1.0.2, alibabacloud-tea 0.4.3)",
            )
        return result

    def _kms_error(self, op: str, e: TeaException, subject: str) -> ProviderError:
        data = e.data if isinstance(e.data, dict) else {}
        return kms_error(op, str(e.code or ""), str(e.message or ""), data, endpoint=self.endpoint,
                         client_key_id=self.credentials.client_key.key_id,
                         kms_instance_id=self.credentials.kms_instance_id, subject=subject)

    def _transport_error(self, detail: str) -> KmsTransportError:
        low = detail.lower()
        dated = self._out_of_date() if "has expired" in low or "not yet valid" in low else None
        return transport_error(detail, endpoint=self.endpoint, host=host_port(self.endpoint)[0],
                               ca_file=self.credentials.ca_file, out_of_date=dated,
                               connect_timeout=self.connect_timeout, read_timeout=self.read_timeout)

    def _out_of_date(self) -> OutOfDate | None:
        """After "certificate has expired"/"is not yet valid": which certificate, and its dates. OpenSSL does
        not say whether it was the server's or a CA's; check the CA bundle, then fetch the server's certificate
        (one more handshake, unverified: only its dates are read; an error path only)."""
        now = datetime.now(UTC)
        try:
            for ca in load_ca_bundle(self.credentials.ca_file):
                if not not_before(ca) <= now <= not_after(ca):
                    return OutOfDate(f"CA certificate {ca.subject.rfc4514_string()} in {self.credentials.ca_file}",
                                     not_before(ca), not_after(ca), is_ca=True)
        except CredentialError:
            pass
        try:
            pem = ssl.get_server_certificate(host_port(self.endpoint), timeout=self.connect_timeout)
            cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
        except (OSError, ValueError):
            return None
        return OutOfDate(f"the server certificate at {self.endpoint}", not_before(cert), not_after(cert))

    # --- diagnosis ----------------------------------------------------------------------------------------

    def check_connection(self, key: str | KeyRef | None = None) -> ConnectionReport:
        """Find what fails, in order: reachability (a TCP connection), trust (the TLS handshake of the first
        signed request, trusting only the CA bundle), the client key (that request, a `GenerateRandom`), and,
        with a key, permission (an `Encrypt`). One TLS handshake in all. Never raises for these."""
        report = ConnectionReport(self.endpoint)
        names: list[StepName] = ["reachability", "trust", "client_key"]
        if key is not None or self.key_ref is not None:
            names.append("permission")

        def fail(name: StepName, e: SealtuiError) -> ConnectionReport:
            report.steps.append(ConnectionStep(name, "error", e.message, e.fix))
            later = names[names.index(name) + 1 :]
            report.steps.extend(ConnectionStep(n, "skipped", f"not tried: {name} failed") for n in later)
            return report

        try:
            report.steps.append(ConnectionStep("reachability", "ok", self._probe_tcp()))
        except KmsTransportError as e:
            return fail("reachability", e)
        refused: ProviderError | None = None
        try:
            req = sdk_models.GenerateRandomRequest(length=16)
            self._call("GenerateRandom", self._client.generate_random_with_options, req, "GenerateRandom",
                       self._diagnosis_runtime)  # fmt: skip
        except KmsTransportError as e:  # nothing was answered at the KMS level: the TLS session failed
            return fail("trust", e)
        except ProviderError as e:  # Forbidden.NoPermission: authenticated, just not allowed GenerateRandom
            refused = None if e.code == "Forbidden.NoPermission" else e
        ca = self.credentials.ca_file.name
        report.steps.append(ConnectionStep("trust", "ok", f"TLS verified with {ca}, the only CA bundle trusted"))
        if refused is not None:
            return fail("client_key", refused)
        key_id = self.credentials.client_key.key_id
        report.steps.append(ConnectionStep("client_key", "ok", f"client key {key_id} accepted"))
        if "permission" in names:
            try:
                res = self.encrypt(b"sealtui connection check", key)
            except (ProviderError, CredentialError, UsageError) as e:
                return fail("permission", e)
            report.steps.append(ConnectionStep("permission", "ok", f"may encrypt with {res.key_id}"))
        return report

    def _probe_tcp(self) -> str:
        host, port = host_port(self.endpoint)
        try:
            with socket.create_connection((host, port), timeout=self.connect_timeout):
                return f"{host}:{port} accepts TCP connections"
        except socket.gaierror:
            raise self._transport_error("name or service not known") from None
        except TimeoutError:
            raise self._transport_error("connect timed out") from None
        except OSError as e:
            raise self._transport_error(str(e.strerror or e).lower()) from None

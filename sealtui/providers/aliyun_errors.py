"""What an Alibaba KMS-instance failure means, in words that say what to check.

The SDK raises `TeaException` (a KMS error code) or wraps a transport error in `UnretryableException`; these
functions turn both into `ProviderError`s naming the thing at fault and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sealtui.core.errors import ProviderError


class KmsTransportError(ProviderError):
    """The KMS could not be reached or trusted: nothing was answered at the KMS level."""

    def __init__(self, message: str, *, reason: str, fix: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.reason = reason
        """`unreachable`, `trust`, `timeout`, `tls` or `connection`."""


@dataclass(frozen=True)
class OutOfDate:
    """A certificate found outside its validity period after a TLS failure said one was."""

    what: str
    """`the server certificate at <endpoint>` or `CA certificate <subject> in <bundle>`."""
    not_before: datetime
    not_after: datetime
    is_ca: bool = False


# KMS error code → (message, fix). `{ck}` client key id, `{subject}` the key/secret, `{inst}` instance id.
_KMS_ERRORS: dict[str, tuple[str, str]] = {
    "Unauthorized": (
        "the KMS instance does not know client key {ck}",
        "use a client key of this KMS instance (check --endpoint); a sandbox needs "
        "`sealtui sandbox register-client-key`",
    ),
    "SignatureNotMatch": (
        "the KMS instance rejected the signature of client key {ck}: the key file does not "
        "match the client key registered under that id on this instance",
        "use the clientKey file and password downloaded for this instance",
    ),
    "Forbidden.NoPermission": (
        "client key {ck} has no permission for {subject}",
        "allow it in the permission policy of the client key's application access point",
    ),
    "Forbidden.KeyNotFound": (
        "{subject} does not exist in KMS instance {inst}",
        "check the key id or alias, and that --endpoint reaches the instance holding it",
    ),
    "Forbidden.ResourceNotFound": (
        "{subject} does not exist in KMS instance {inst}",
        "check the name, and that --endpoint reaches the instance holding it",
    ),
    "Rejected.Disabled": ("{subject} is disabled", "enable the key in the KMS console, or use another key"),
    "Rejected.PendingDeletion": (
        "{subject} is pending deletion",
        "cancel the deletion in the KMS console, or use another key",
    ),
    "Rejected.PendingImport": (
        "{subject} is waiting for its key material to be imported",
        "import the key material, or use another key",
    ),
    "RequestTimeTooSkewed": (
        "this machine's clock is more than 15 minutes off the KMS instance's",
        "synchronise the clock (NTP) and retry",
    ),
    "Rejected.Throttling": ("the KMS instance is throttling requests", "retry later, or with fewer threads"),
}


_KEY_SPEC = re.compile(r'(?P<op>\w+) needs an? (?P<wanted>[\w-]+) key; "(?P<key>[^"]+)" is an? (?P<spec>[\w-]+) key')
"""How the local KMS says a key of the wrong kind was used (the Alibaba docs give only `InvalidParameter`)."""

_SYMMETRIC_OPS = ("Encrypt", "Decrypt", "GenerateDataKey")
_SIGNING_OPS = ("Sign", "Verify", "GetPublicKey")
# A real instance's Decrypt says InvalidParameter for a ciphertext that does not authenticate as well: no guess.


def _wrong_key_kind(op: str, code: str, message: str, subject: str) -> tuple[str, str] | None:
    """(message, fix) when the error says, or the operation shows, that `subject` is the wrong kind of key."""
    if code not in ("InvalidParameter", "UnsupportedOperation"):
        return None
    m = _KEY_SPEC.search(message)
    if m:
        key, spec = m["key"], m["spec"]
        if m["op"] in _SYMMETRIC_OPS:
            return (f"{key} is an {spec} key, which signs: {op} needs a symmetric key ({m['wanted']})",
                    "seal with an AES key, such as the local KMS's alias/sealtui-default (an EC key can sign the "
                    "sealed string instead)")
        return (f"{key} is an {spec} key: {op} needs an {m['wanted']} key",
                "sign with an EC P-256 key, such as the local KMS's alias/sealtui-signing (an AES key seals)")
    if op in ("Encrypt", "GenerateDataKey"):  # a real instance says only "The specified parameter is not valid."
        return (f"{op} failed: {code}: {message or 'no message'}",
                f"check that {subject} is a symmetric (Aliyun_AES_256) key: an EC or RSA key signs, it cannot "
                f"{op.lower()}")
    if op in _SIGNING_OPS:
        return (f"{op} failed: {code}: {message or 'no message'}",
                f"check that {subject} is an EC P-256 key (ECDSA_SHA_256)")
    return None


def kms_error(op: str, code: str, message: str, data: dict[str, Any], *, endpoint: str, client_key_id: str,
              kms_instance_id: str, subject: str) -> ProviderError:
    """The `ProviderError` for a KMS error code answered to `op` on `subject`."""
    where = f"HTTP {data.get('httpCode', '?')}, request id {data.get('requestId') or '-'}"
    wrong_kind = _wrong_key_kind(op, code, message, subject)
    if wrong_kind is not None:
        text, fix = wrong_kind
    elif code in _KMS_ERRORS:
        msg, fix = _KMS_ERRORS[code]
        text = msg.format(ck=client_key_id, subject=subject, inst=kms_instance_id)
    else:
        text, fix = (
            f"{op} failed: {code or 'error'}: {message or 'no message'}",
            "see 'common error codes' of the KMS instance API in the Alibaba Cloud docs",
        )
        if op == "Decrypt" and code == "InvalidParameter":
            fix = "check that the secret was sealed with this key and is intact"
    return ProviderError(f"KMS {op} at {endpoint}: {text} ({code or 'no code'}; {where})", fix=fix,
                         code=code or None)


def _validity_error(expired: bool, ep: str, dated: OutOfDate | None) -> KmsTransportError:
    clock = "check that this machine's clock is right"
    if dated is None:
        state = "has expired" if expired else "is not valid yet"
        return KmsTransportError(f"the server certificate at {ep}, or a CA certificate it chains to, {state}",
                                 reason="trust", fix=f"renew the expired certificate; {clock}")
    when = f"expired on {dated.not_after:%Y-%m-%d %H:%M} UTC" if expired else \
        f"is not valid before {dated.not_before:%Y-%m-%d %H:%M} UTC"
    if not expired:
        fix = f"{clock}, or wait until then"
    elif dated.is_ca:
        fix = f"download the instance's current CA bundle from the KMS console; {clock}"
    else:
        fix = f"the KMS instance must renew its server certificate (a sandbox: issue a new one); {clock}"
    return KmsTransportError(f"{dated.what} {when}", reason="trust", fix=fix)


def transport_error(detail: str, *, endpoint: str, host: str, ca_file: Path, connect_timeout: float,
                    read_timeout: float, out_of_date: OutOfDate | None = None) -> KmsTransportError:
    """The `KmsTransportError` for a failure below the KMS protocol (TCP, DNS, TLS, timeouts).

    `out_of_date` says which certificate is outside its validity period when `detail` says one is.
    """
    ep, ca = endpoint, ca_file
    low = detail.lower()
    if "certificate_verify_failed" in low or "certificate verify failed" in low:
        if "certificate has expired" in low or "certificate is not yet valid" in low:
            return _validity_error("expired" in low, ep, out_of_date)
        if "mismatch" in low or "doesn't match" in low:
            return KmsTransportError(
                f"the server certificate at {ep} is not valid for {host}",
                reason="trust",
                fix="use the instance endpoint <kms_instance_id>.cryptoservice.kms."
                "aliyuncs.com (127.0.0.1 or localhost for a sandbox)",
            )
        return KmsTransportError(
            f"the server certificate at {ep} is not signed by the CA bundle {ca}",
            reason="trust",
            fix="use the PrivateKmsCA_<kms_instance_id>.pem of the instance that --endpoint reaches",
        )
    if "could not find a suitable tls ca certificate bundle" in low:
        return KmsTransportError(f"CA bundle {ca} cannot be read", reason="trust", fix="check the CA file path")
    if "timed out" in low or "timeout" in low:
        return KmsTransportError(
            f"the KMS instance at {ep} did not answer in time (connect "
            f"{connect_timeout:g} s, read {read_timeout:g} s)",
            reason="timeout",
            fix="check the network path and firewall to the endpoint",
        )
    if "connection refused" in low:
        return KmsTransportError(
            f"cannot reach the KMS instance at {ep}: connection refused",
            reason="unreachable",
            fix="check --endpoint (host:port) and that it is up",
        )
    if "name or service not known" in low or "failed to resolve" in low or "nodename nor servname" in low:
        return KmsTransportError(
            f"cannot resolve {host}",
            reason="unreachable",
            fix="check the endpoint; outside the instance's VPC give --endpoint host:port",
        )
    if "ssl" in low:
        return KmsTransportError(
            f"TLS with {ep} failed: {detail}",
            reason="tls",
            fix="check that the endpoint is a KMS instance speaking HTTPS",
        )
    return KmsTransportError(
        f"request to {ep} failed: {detail}", reason="connection", fix="check --endpoint and the network"
    )

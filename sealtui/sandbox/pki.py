"""Certificates and client keys for a sandbox instance, shaped like what the Alibaba console issues.

- A root CA and an intermediate CA (pathlen 0), as in Alibaba's `PrivateKmsCA_<instance>.pem` bundle
  (dkms-protocol.md §1.2). The server sends leaf + intermediate; clients get root + intermediate.
- A server leaf with the SANs the SDK and CDH need: `DNS:<instance>.cryptoservice.kms.aliyuncs.com`,
  `DNS:localhost`, `IP:127.0.0.1` (hostname checks look at SANs only).
- Client keys (§7.4): RSA-2048 with a self-signed `CN=<instance>-client` certificate (KeyUsage
  digitalSignature, 5 years) in a PKCS#12 with 3DES/SHA-1 (loads in the pinned SDK and the Rust client), a
  32-hex password, wrapped in `{"KeyId": "KAAP.<uuid>", "PrivateKeyData": "<base64>"}`.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import secrets
import string
import uuid
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CertificateAuthority",
    "IssuedClientKey",
    "create_ca",
    "issue_client_key",
    "issue_server_cert",
    "new_client_key_id",
    "new_instance_id",
    "private_key_pem",
    "server_hostname",
]

_ORG = "sealtui"
_ALNUM = string.ascii_lowercase + string.digits


def new_instance_id() -> str:
    """A KMS instance id like Alibaba's: `kst-` + 20 lower-case letters and digits."""
    return "kst-" + "".join(secrets.choice(_ALNUM) for _ in range(20))


def new_client_key_id() -> str:
    """A client key id like Alibaba's: `KAAP.` + a UUID."""
    return f"KAAP.{uuid.uuid4()}"


def server_hostname(instance_id: str) -> str:
    """The name CDH dials for an instance: `<instance-id>.cryptoservice.kms.aliyuncs.com`."""
    return f"{instance_id}.cryptoservice.kms.aliyuncs.com"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(common_name: str, unit: str = "sealtui local KMS") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class CertificateAuthority:
    """The instance's root and intermediate CA (certificates and keys)."""

    root_cert: x509.Certificate
    root_key: rsa.RSAPrivateKey
    intermediate_cert: x509.Certificate
    intermediate_key: rsa.RSAPrivateKey

    def bundle_pem(self) -> bytes:
        """The client trust bundle, `PrivateKmsCA_<instance>.pem`: root then intermediate."""
        return self.root_cert.public_bytes(serialization.Encoding.PEM) + self.intermediate_cert.public_bytes(
            serialization.Encoding.PEM
        )


def create_ca(instance_id: str) -> CertificateAuthority:
    """Create a root CA (20 years) and an intermediate CA (10 years, pathlen 0) for one instance."""
    now = _now()
    root_key = _rsa_key()
    root_name = _name("sealtui local Private KMS Root CA")
    root_cert = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=20 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    inter_key = _rsa_key()
    inter_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"sealtui local Private KMS {instance_id} Second CA"))
        .issuer_name(root_name)
        .public_key(inter_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=10 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(inter_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    return CertificateAuthority(root_cert, root_key, inter_cert, inter_key)


def issue_server_cert(ca: CertificateAuthority, instance_id: str) -> tuple[bytes, bytes]:
    """Issue the TLS server leaf. Returns (chain PEM = leaf + intermediate, private key PEM)."""
    now = _now()
    key = _rsa_key()
    host = server_hostname(instance_id)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca.intermediate_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=5 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(host),
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.intermediate_key.public_key()),
            critical=False,
        )
        .sign(ca.intermediate_key, hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca.intermediate_cert.public_bytes(
        serialization.Encoding.PEM
    )
    return chain, private_key_pem(key)


def private_key_pem(key: rsa.RSAPrivateKey, password: bytes | None = None) -> bytes:
    """A PKCS#8 PEM, encrypted with `password` when one is given (only ever written to 0600 files)."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


@dataclass(frozen=True)
class IssuedClientKey:
    """A new client key: what goes into the credential files, and what the server keeps."""

    key_id: str
    password: str
    client_key_json: bytes
    """The content of `clientKey_<KeyId>.json`."""
    public_key_pem: bytes
    """The SubjectPublicKeyInfo the server verifies signatures with."""


def issue_client_key(instance_id: str) -> IssuedClientKey:
    """Issue a client key like Alibaba's (RSA-2048, self-signed cert, PKCS#12 3DES/SHA-1, 32-hex password)."""
    key = _rsa_key()
    now = _now()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Zhejiang"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Hangzhou"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "sealtui sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{instance_id}-client"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=5 * 365 + 1))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    password = secrets.token_hex(16)
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())  # noqa: S303 - the PKCS#12 profile Alibaba's clients expect
        .build(password.encode("ascii"))
    )
    p12 = pkcs12.serialize_key_and_certificates(None, key, cert, None, encryption)
    key_id = new_client_key_id()
    content = {"KeyId": key_id, "PrivateKeyData": base64.b64encode(p12).decode("ascii")}
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return IssuedClientKey(key_id, password, json.dumps(content, indent=2).encode("utf-8"), public_pem)

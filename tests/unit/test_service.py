"""The service layer's own rules, without a KMS: endpoint resolution, the client key a payload names, the diff
choice, settings, and whether the local KMS is in use."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sealtui.core.errors import InvalidInputError, UsageError
from sealtui.service import kms, review, settings
from tests.paths import ALIYUN

VECTOR_ID = "KAAP.gc-test-vector"


@pytest.fixture
def vector_dir(tmp_path: Path) -> Path:
    d = tmp_path / "creds"
    d.mkdir()
    for name in (f"clientKey_{VECTOR_ID}.json", f"password_{VECTOR_ID}.json", "PrivateKmsCA_kst-bjj6____.pem"):
        shutil.copy(ALIYUN / name, d / name)
    return d


def test_connect_passes_only_an_explicit_endpoint(vector_dir: Path) -> None:
    instance = "kst-test0vector"  # the vector CA's own name has underscores, which a host name cannot
    source = kms.CredentialSource(client_key_file=vector_dir / f"clientKey_{VECTOR_ID}.json",
                                  password_file=vector_dir / f"password_{VECTOR_ID}.json",
                                  ca_file=vector_dir / "PrivateKmsCA_kst-bjj6____.pem", kms_instance_id=instance)
    gateway = "alibabakms://kms.cn-beijing.aliyuncs.com//alias/seal"
    assert kms.connect(kms.KmsTarget(source, None, gateway)).endpoint == \
        f"{instance}.cryptoservice.kms.aliyuncs.com"  # never the region's shared gateway
    assert kms.connect(kms.KmsTarget(source, "127.0.0.1:9", gateway)).endpoint == "127.0.0.1:9"
    assert kms.endpoint_override("  ") is None and kms.endpoint_override("https://h:1/") == "h:1"
    with pytest.raises(UsageError):
        kms.endpoint_override("http://h:1")


def test_the_client_key_the_payload_names_is_preferred(vector_dir: Path, tmp_path: Path) -> None:
    source = kms.CredentialSource(directory=vector_dir)
    assert kms.credentials_for_payload(source, {"client_key_id": VECTOR_ID}).client_key.key_id == VECTOR_ID
    # another key named, not in the directory: the directory's own
    assert kms.credentials_for_payload(source, {"client_key_id": "KAAP.other"}).client_key.key_id == VECTOR_ID
    with pytest.raises(UsageError):
        kms.load_credentials(kms.CredentialSource())


def test_compare_chooses_values_or_manifests_once() -> None:
    value = "sealed.fakejwsheader.e30.fakesignature"
    assert review.compare(value, value).rows is not None and review.compare(value, value).same
    manifest = f"kind: Secret\nmetadata:\n  name: a\nstringData:\n  k: {value}\n"
    assert review.compare(manifest, manifest).entries is not None
    with pytest.raises(InvalidInputError, match="is empty"):
        review.compare(value, " \n")


def test_settings_round_trip_and_recent_keys(tmp_path: Path) -> None:
    assert settings.load_settings(tmp_path) == settings.Settings()
    s = settings.Settings(credentials_dir=tmp_path / "c", endpoint="h:1")
    for i in range(settings.MAX_RECENT_KEYS + 2):
        s = s.with_recent_key(f"alias/k{i}")
    s = s.with_recent_key("alias/k3")
    settings.save_settings(tmp_path, s)
    loaded = settings.load_settings(tmp_path)
    assert loaded == s and loaded.is_configured
    assert loaded.recent_keys[0] == "alias/k3" and len(loaded.recent_keys) == settings.MAX_RECENT_KEYS
    (tmp_path / "config.json").write_text("[not, json")
    assert settings.load_settings(tmp_path) == settings.Settings()


def test_a_settings_file_nested_too_deeply_gives_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    assert settings.load_settings(tmp_path) == settings.Settings()


def test_the_local_kms_is_in_use_only_with_its_own_credentials(tmp_path: Path) -> None:
    from sealtui.service.local_kms import LocalKms, is_local

    class Status:
        credentials_dir = tmp_path / "sandbox" / "credentials"

    local = LocalKms(Status(), "127.0.0.1:1", None, "alias/sealtui-default")  # type: ignore[arg-type]
    assert is_local(tmp_path / "sandbox" / "credentials", local)
    assert not is_local(tmp_path / "other", local) and not is_local(None, local)
    assert not is_local(tmp_path / "sandbox" / "credentials", None)

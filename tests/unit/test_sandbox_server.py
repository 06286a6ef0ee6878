"""The sandbox server's life cycle in a thread: status, one server per root, busy ports, clean stop."""

from __future__ import annotations

import http.client
import socket

import pytest

from sealtui import sandbox
from sealtui.core.errors import InvalidInputError
from sealtui.sandbox.server import ListenError
from tests.rawclient import RawKmsClient


@pytest.fixture
def instance(tmp_path) -> sandbox.SandboxStatus:
    return sandbox.init_instance(tmp_path / "root")


def test_start_status_stop(instance: sandbox.SandboxStatus):
    running = sandbox.start_in_thread(instance.root_dir)
    try:
        assert running.endpoint.startswith("127.0.0.1:") and running.kms_instance_id == instance.kms_instance_id
        status = sandbox.load_status(instance.root_dir)
        assert status.running and status.endpoint == running.endpoint
        with pytest.raises(InvalidInputError, match="already serving"):
            sandbox.start_in_thread(instance.root_dir)
        client = RawKmsClient.from_files(
            running.endpoint, instance.ca_file, instance.client_key_file, instance.password_file
        )
        assert client.call("GenerateRandom", Length=4).status == 200
    finally:
        running.stop()
    status = sandbox.load_status(instance.root_dir)
    assert not status.running and status.endpoint == running.endpoint  # the last bound endpoint
    with pytest.raises((OSError, http.client.HTTPException)):  # the idle keep-alive connection was closed
        client.call("GenerateRandom", Length=4)
    client.close()
    running.stop()  # idempotent


def test_busy_port_is_a_clear_error(instance: sandbox.SandboxStatus):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{port}: the port is already in use") as e:
            sandbox.start_in_thread(instance.root_dir, port=port)
        assert e.value.fix and "--port 0" in e.value.fix and e.value.exit_code == 5
    with sandbox.start_in_thread(instance.root_dir):  # the failed attempt released the lock
        assert sandbox.load_status(instance.root_dir).running
    assert not sandbox.load_status(instance.root_dir).running

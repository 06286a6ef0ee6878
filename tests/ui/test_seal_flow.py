"""Seal → manifest → copy, against the local KMS: the app's own (first run) and the shared test sandbox."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import yaml

from sealtui.screens.manifest import ManifestScreen
from sealtui.screens.seal import SealScreen
from sealtui.service.signing import DEFAULT_JWK_KID
from tests.ui.conftest import make_app, run, settle, type_into, use_kms, use_signing_jwk, wait_for


def test_first_run_creates_the_local_kms_then_seal_and_copy_the_manifest(tmp_path: Path) -> None:
    """A new user: the first-run offer creates and starts the local KMS, a value is sealed with a generated
    signing key, and the Secret manifest is copied."""
    app = make_app(tmp_path, first_run_offer=True)

    async def flow() -> None:
        from sealtui.screens.dialogs import FirstRunDialog

        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, FirstRunDialog), "the first-run offer")
            await pilot.press("enter")  # "Create and start the local KMS" has the focus
            await wait_for(pilot, lambda: app.session.local is not None and app.session.credentials is not None,
                           "the local KMS")
            await settle(pilot)
            assert app.current_mode == "credentials"
            assert (tmp_path / "sandbox" / "credentials").is_dir()
            assert app.session.key == "alias/sealtui-default"

            await pilot.press("f4")
            seal = app.screen
            assert isinstance(seal, SealScreen)
            await pilot.press("ctrl+g")
            await settle(pilot)
            assert app.session.signing is not None
            public = tmp_path / "config" / "keys" / "default_sealtui-signing_jwk-public.json"
            assert json.loads(public.read_text())["kid"] == DEFAULT_JWK_KID
            assert "set-resource --path default/sealtui-signing/jwk" in str(seal.query_one("#provision").render())

            await type_into(pilot, "#value", "hunter2")
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert not app.errors, app.errors
            assert len(seal.results) == 1 and seal.results[0].sealed.startswith("sealed.")
            assert seal.query_one("#value").value == ""  # the plaintext does not linger in the field
            assert seal.results[0].sealed in seal.query_one("#results").text

            await pilot.press("f7")
            await settle(pilot)
            manifest = app.screen
            assert isinstance(manifest, ManifestScreen)
            doc = yaml.safe_load(manifest.texts["yaml"])
            assert doc["kind"] == "Secret" and doc["stringData"]["secret"] == seal.results[0].sealed
            await pilot.press("ctrl+y")
            assert app.clipboard == manifest.texts["yaml"]

        assert app.session.local is None  # stopped with the app
        config = json.loads((tmp_path / "config" / "config.json").read_text())
        assert config["sandbox"] is True
        assert "hunter2" not in (tmp_path / "config" / "config.json").read_text()

    run(flow())


def test_seal_several_pairs_with_a_loaded_signing_key(tmp_path: Path, sandbox, signing_key) -> None:
    """KEY=value pairs sealed at once against the shared sandbox; the manifest has them all, in data form."""
    private, public = signing_key
    app = use_kms(make_app(tmp_path, start_mode="seal"), sandbox.credentials_dir, sandbox.endpoint)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            seal = app.screen
            assert isinstance(seal, SealScreen)
            seal.query_one("#jwk").value = str(private)
            await pilot.click("#load-jwk")
            await settle(pilot)
            await pilot.click("#src-pairs")
            seal.query_one("#pairs-text").text = "# app settings\nDB_PASSWORD=pa55\nAPI_TOKEN=tok=en\n"
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert not app.errors, app.errors
            assert [v.name for v in seal.results] == ["DB_PASSWORD", "API_TOKEN"]
            from sealtui.core.verify import verify_sealed

            for v in seal.results:
                verify_sealed(v.sealed, public)

            await pilot.press("f7")
            await settle(pilot)
            manifest = app.screen
            assert isinstance(manifest, ManifestScreen)
            manifest.query_one("#namespace").value = "prod"
            manifest.query_one("#form-data").value = True
            await settle(pilot)
            doc = yaml.safe_load(manifest.texts["yaml"])
            assert doc["metadata"] == {"name": "sealed-secrets", "namespace": "prod"}
            assert set(doc["data"]) == {"DB_PASSWORD", "API_TOKEN"}
            assert manifest.texts["kubectl"].startswith("kubectl create secret generic sealed-secrets")
            assert "secretKeyRef" in manifest.texts["pod"]
            manifest.query_one("#secret-name").value = "Not_Valid"
            await settle(pilot)
            assert "not a valid Kubernetes name" in str(manifest.query_one("ErrorLine").render())

    run(flow())


def test_seal_unreachable_endpoint_is_shown_and_the_app_keeps_running(tmp_path: Path, sandbox, signing_key) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    app = use_kms(make_app(tmp_path, start_mode="seal"), sandbox.credentials_dir, f"127.0.0.1:{closed_port}")

    async def flow() -> None:
        from sealtui.core.errors import ProviderError

        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            use_signing_jwk(app, signing_key[0])
            app.screen.query_one("#value").value = "x"
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert isinstance(app.errors[-1], ProviderError)
            assert "connection refused" in app.errors[-1].message
            shown = str(app.screen.query_one("ErrorLine").render())
            assert "connection refused" in shown
            assert "--endpoint" in (app.errors[-1].fix or "")  # the provider speaks the CLI's words…
            assert "--endpoint" not in shown and "the endpoint (Instance & key, F3)" in shown  # …the UI its own
            assert app.is_running

    run(flow())


def test_a_slow_kms_call_shows_busy_and_can_be_cancelled(tmp_path: Path, sandbox, signing_key) -> None:
    """A KMS that accepts the connection and never answers: the busy bar shows, escape cancels."""
    import socket

    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(8)
    port = blackhole.getsockname()[1]
    app = use_kms(make_app(tmp_path, start_mode="seal"), sandbox.credentials_dir, f"127.0.0.1:{port}")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            seal = app.screen
            use_signing_jwk(app, signing_key[0])
            seal.query_one("#value").value = "x"
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: seal.busy and seal.query_one("BusyBar").display, "the busy bar")
            assert "sealing through the KMS" in str(seal.query_one("#busy-label").render())
            await pilot.press("escape")
            await wait_for(pilot, lambda: not seal.busy, "the cancellation")
            assert not seal.results and not app.errors
            blackhole.close()  # the abandoned call now fails fast instead of waiting out its read timeout

    try:
        run(flow())
    finally:
        blackhole.close()  # the abandoned call fails fast now instead of waiting for its timeout


class GatedProxy:
    """A TCP forwarder to the sandbox that holds every connection until `release()`: a KMS that is slow, then
    answers. Bounded: it serves only this test's loopback connections and stops when closed."""

    def __init__(self, target: str) -> None:
        import socket
        import threading

        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.gate = threading.Event()
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.endpoint = f"127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def release(self) -> None:
        self.gate.set()

    def close(self) -> None:
        self.gate.set()
        self.server.close()

    def _accept(self) -> None:
        import threading

        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client) -> None:  # type: ignore[no-untyped-def]
        import socket
        import threading

        self.gate.wait(timeout=30)
        upstream = socket.create_connection(self.target, timeout=30)

        def pump(src, dst) -> None:  # type: ignore[no-untyped-def]
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream)


def test_a_cancelled_bulk_seal_that_completes_later_keeps_nothing(tmp_path: Path, sandbox, signing_key,
                                                                  monkeypatch) -> None:
    """Escape cancels; when the KMS then answers, the sealed values are dropped, not kept for the manifest."""
    proxy = GatedProxy(sandbox.endpoint)
    app = use_kms(make_app(tmp_path, start_mode="seal"), sandbox.credentials_dir, proxy.endpoint)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            seal = app.screen
            use_signing_jwk(app, signing_key[0])
            finished = threading.Event()  # observes when the abandoned seal's KMS calls have all returned
            from sealtui.service import sealing as service

            sealing = service.seal_values

            def observed(*args, **kwargs):  # type: ignore[no-untyped-def]
                try:
                    return sealing(*args, **kwargs)
                finally:
                    finished.set()

            monkeypatch.setattr(service, "seal_values", observed)  # the screen's worker looks it up when it runs
            await pilot.click("#src-pairs")
            seal.query_one("#pairs-text").text = "A=1\nB=2\nC=3\n"
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: seal.busy, "the busy bar")
            await pilot.press("escape")
            await wait_for(pilot, lambda: not seal.busy, "the cancellation")
            proxy.release()  # the KMS answers now: the abandoned seal completes in its threads
            await wait_for(pilot, finished.is_set, "the abandoned seal to finish")
            await pilot.pause(0.2)
            assert app.session.sealed == {} and seal.results == [] and not app.errors

    try:
        run(flow())
    finally:
        proxy.close()

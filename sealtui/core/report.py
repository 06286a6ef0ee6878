"""The inspection report: what an input is, what each consumer would do with it, and why.

Plain dataclasses (no pydantic) so that `sealtui inspect` stays quick to start; `to_dict()` is the JSON shape
of `sealtui inspect --json`, and the report renders itself as text, Markdown and HTML (for notebooks).

Verdicts come only from the consumer models (`sealtui.core.consumers`): each `Decision` says which step of the
consumer's own code decided and with which error. Findings explain; they never decide.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Verdict = Literal["accepted", "rejected", "needs-key"]

CONSUMERS: dict[str, str] = {
    "cdh": "upstream CDH, signature verification on (the default)",
    "cdh-skip-verification": "upstream CDH with SKIP_SEALED_SECRET_VERIFICATION=true",
    "kata-agent": "the kata agent, which forwards to CDH only values that start with `sealed.`",
    "openanolis-cdh": "the OpenAnolis CDH as released (v1.6.0): no signature or prefix check",
}
"""Every consumer a verdict is given for, and what it is."""

VERIFYING_CONSUMERS = ("cdh",)
"""Consumers that check the JWS signature before unsealing."""

ACTIONS: dict[str, str] = {
    "verify-with-jwk": "verify the signature with the signer's public JWK",
    "resign": "re-sign the string into the canonical signed form (the payload is kept; nothing is decrypted)",
    "reseal": "seal the secret again from its plaintext",
    "strip-whitespace": "write the sealed string without surrounding whitespace or a trailing newline",
    "export-guest-bundle": "export the credential files CDH reads in the guest, under their guest names",
}
"""The actions a `Fix` can point to. A front end renders each as its own flag, command or key; the core's fix
texts never name one."""


@dataclass(frozen=True)
class Fix:
    """What to do about a finding."""

    text: str
    """Says what to do without naming any front end's flags, commands or keys."""
    action: str | None = None
    """A key of `ACTIONS`, when a front end has a command or key that does it."""

    def __str__(self) -> str:
        return self.text


ActionRenderer = Callable[[str], "str | None"]
"""Turns an action id into a front end's own words (e.g. the CLI's `--jwk PUBLIC.json`), or None."""


@dataclass(frozen=True)
class Finding:
    """One thing worth knowing about the input, for the consumers it concerns."""

    severity: Severity
    code: str
    message: str
    consumers: tuple[str, ...]
    """The consumers this finding speaks for. An `error` speaks only for consumers that reject the input."""
    fix: Fix | None = None
    part: str | None = None
    position: int | None = None


@dataclass(frozen=True)
class Decision:
    """What one consumer does with the input, replayed step by step from its code."""

    consumer: str
    verdict: Verdict
    step: str
    """The step that decided: where it failed, where it waits for the key, or its last step when accepted."""
    error: str | None
    """The consumer's own error text at that step, verbatim from its code (None when it did not fail)."""
    detail: str
    """What happened at that step, in sealtui's words."""
    code_version: str
    """The consumer code this model replays."""
    steps: tuple[str, ...] = ()
    """The steps passed, in order; an accepted input has passed the model's last step."""
    code: str = ""
    """The finding code that explains a rejection."""
    fix: Fix | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "step": self.step, "error": self.error, "detail": self.detail,
                "code_version": self.code_version, "steps": list(self.steps)}


@dataclass
class SignatureInfo:
    alg: str | None = None
    kid: str | None = None
    verified: bool | None = None
    """True/False when checked against a JWK; None when unchecked (no key given, or no signature)."""
    key_location: str | None = None
    """Where CDH looks for the public key named by `kid`."""


@dataclass
class InspectionReport:
    """The result of `sealtui.inspect()`."""

    form: str
    form_description: str
    verdicts: dict[str, Verdict]
    """Consumer → verdict: `decisions` reduced to their verdicts."""
    findings: list[Finding]
    header: Any
    payload: Any
    signature: SignatureInfo
    input_length: int
    summary: str = ""
    kind: str | None = None
    """The payload type (`envelope` or `vault`) when it is known."""
    decisions: dict[str, Decision] = field(default_factory=dict)
    """Consumer → what it does and why (the deciding step, its own error text, the code version modelled)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when upstream CDH (verification on) accepts it or only the key is missing."""
        return self.verdicts.get("cdh") in ("accepted", "needs-key")

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def to_dict(self) -> dict[str, Any]:
        d = {
            "form": self.form,
            "form_description": self.form_description,
            "kind": self.kind,
            "summary": self.summary,
            "verdicts": dict(self.verdicts),
            "decisions": {c: d.to_dict() for c, d in self.decisions.items()},
            "findings": [_finding_dict(f) for f in self.findings],
            "header": self.header,
            "payload": self.payload,
            "signature": asdict(self.signature),
            "input_length": self.input_length,
        }
        return d

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text; always encodable as UTF-8 (a lone surrogate is written as its escape)."""
        if indent == 2:  # the same text as json.dumps's, written faster (a payload may hold 100,000 objects)
            from sealtui.core.jsonout import dumps_indented

            return _escape_surrogates(dumps_indented(self.to_dict()))
        return _escape_surrogates(json.dumps(self.to_dict(), indent=indent, ensure_ascii=False))

    def render_text(self, actions: ActionRenderer | None = None) -> str:
        """The human view printed by `sealtui inspect`; `actions` renders a fix's action in the front end's words."""
        lines = [f"form:      {self.form}", f"           {self.form_description}"]
        if self.kind:
            lines.append(f"type:      {self.kind}")
        sig = self.signature
        if sig.alg or sig.kid:
            state = {True: "verified", False: "DOES NOT VERIFY", None: "not checked (no key given)"}[sig.verified]
            lines.append(f"signature: {sig.alg or '?'} kid={sig.kid or '(none)'}: {state}")
            if sig.key_location:
                lines.append(f"           key: {sig.key_location}")
        lines.append("verdicts:")
        for consumer, verdict in self.verdicts.items():
            d = self.decisions.get(consumer)
            lines.append(f"  {consumer:<22} {verdict}" + (f" at {d.step}" if d else ""))
            if d is not None:
                lines.append(f"  {'':<22} {d.detail}")
                if d.error:
                    lines.append(f"  {'':<22} error: {d.error}")
                lines.append(f"  {'':<22} model: {d.code_version}")
        if self.findings:
            lines.append("findings:")
            for f in self.findings:
                where = f" [{f.part}" + (f" @{f.position}" if f.position is not None else "") + "]" if f.part else ""
                lines.append(f"  {f.severity:<7} {f.code}{where}: {f.message}")
                lines.append(f"          for: {', '.join(f.consumers) or 'sealtui'}")
                if f.fix:
                    how = actions(f.fix.action) if actions and f.fix.action else None
                    lines.append(f"          fix: {f.fix.text}" + (f" ({how})" if how else ""))
        if self.header is not None:
            lines.append("header:")
            lines.append(_indent(json.dumps(self.header, indent=2, ensure_ascii=False)))
        if self.payload is not None:
            lines.append("payload:")
            lines.append(_indent(json.dumps(self.payload, indent=2, ensure_ascii=False)))
        return _escape_surrogates("\n".join(lines))

    def __str__(self) -> str:
        return self.render_text()

    def _repr_markdown_(self) -> str:
        from sealtui.core.notebook import md

        rows = "\n".join(f"| {md(c)} | **{md(v)}** | {md(self._why(c))} |" for c, v in self.verdicts.items())
        found = "\n".join(
            f"- {md(f.severity)} **{md(f.code)}**: {md(f.message)} _(for {md(', '.join(f.consumers) or 'sealtui')})_"
            + (f" Fix: {md(f.fix.text)}" if f.fix else "") for f in self.findings)
        return _escape_surrogates(
            f"**form** {md(self.form)}: {md(self.form_description)}\n\n| consumer | verdict | why |\n|---|---|---|\n"
            f"{rows}\n\n{found}")

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(c)}</td><td><b>{html.escape(v)}</b></td>"
                       f"<td>{html.escape(self._why(c))}</td></tr>" for c, v in self.verdicts.items())
        found = "".join(
            f"<li><code>{html.escape(f.severity)}</code> <b>{html.escape(f.code)}</b>: {html.escape(f.message)}"
            + (f" <i>Fix: {html.escape(f.fix.text)}</i>" if f.fix else "") + "</li>" for f in self.findings)
        payload = html.escape(json.dumps(self.payload, indent=2, ensure_ascii=False)) if self.payload else ""
        return _escape_surrogates(
            f"<div><p><b>form</b> <code>{html.escape(self.form)}</code>: "
            f"{html.escape(self.form_description)}</p><table>{rows}</table><ul>{found}</ul>"
            f"<pre>{payload}</pre></div>")

    def _why(self, consumer: str) -> str:
        d = self.decisions.get(consumer)
        return f"{d.step}: {d.error or d.detail}" if d else ""


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {"severity": f.severity, "code": f.code, "message": f.message, "consumers": list(f.consumers),
            "fix": f.fix.text if f.fix else None, "fix_action": f.fix.action if f.fix else None,
            "part": f.part, "position": f.position}


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogates(text: str) -> str:
    """Write each lone surrogate as its `\\uXXXX` escape, so that the text encodes as UTF-8."""
    if text.isascii():  # known without reading the text
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())

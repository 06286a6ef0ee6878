"""The inspection report: what an input is, what each consumer would do with it, and why.

Plain dataclasses (no pydantic) so that `sealtui inspect` stays quick to start; `to_dict()` is the JSON shape
of `sealtui inspect --json`, and the report renders itself as text, Markdown and HTML (for notebooks).
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Verdict = Literal["accepted", "rejected", "needs-key"]

CONSUMERS: dict[str, str] = {
    "cdh": "upstream CDH, signature verification on (the default)",
    "cdh-skip-verification": "upstream CDH with SKIP_SEALED_SECRET_VERIFICATION=true",
    "kata-agent": "the kata agent, which forwards to CDH only values that start with `sealed.`",
    "openanolis-cdh": "the OpenAnolis fork of CDH (trims whitespace, requires the `sealed.` prefix)",
}
"""Every consumer a verdict is given for, and what it is."""

VERIFYING_CONSUMERS = ("cdh", "openanolis-cdh")
"""Consumers that check the JWS signature before unsealing."""


@dataclass(frozen=True)
class Finding:
    """One thing worth knowing about the input, for the consumers it concerns."""

    severity: Severity
    code: str
    message: str
    consumers: tuple[str, ...]
    """The consumers this finding speaks for; an `error` makes each of them reject the input."""
    fix: str | None = None
    part: str | None = None
    position: int | None = None


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
    findings: list[Finding]
    header: Any
    payload: Any
    signature: SignatureInfo
    input_length: int
    summary: str = ""
    kind: str | None = None
    """The payload type (`envelope` or `vault`) when it is known."""
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
            "findings": [asdict(f) | {"consumers": list(f.consumers)} for f in self.findings],
            "header": self.header,
            "payload": self.payload,
            "signature": asdict(self.signature),
            "input_length": self.input_length,
        }
        return d

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def render_text(self) -> str:
        """The human view printed by `sealtui inspect`."""
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
            lines.append(f"  {consumer:<22} {verdict}")
        if self.findings:
            lines.append("findings:")
            for f in self.findings:
                where = f" [{f.part}" + (f" @{f.position}" if f.position is not None else "") + "]" if f.part else ""
                lines.append(f"  {f.severity:<7} {f.code}{where}: {f.message}")
                lines.append(f"          for: {', '.join(f.consumers)}")
                if f.fix:
                    lines.append(f"          fix: {f.fix}")
        if self.header is not None:
            lines.append("header:")
            lines.append(_indent(json.dumps(self.header, indent=2, ensure_ascii=False)))
        if self.payload is not None:
            lines.append("payload:")
            lines.append(_indent(json.dumps(self.payload, indent=2, ensure_ascii=False)))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render_text()

    def _repr_markdown_(self) -> str:
        rows = "\n".join(f"| {c} | **{v}** |" for c, v in self.verdicts.items())
        found = "\n".join(
            f"- `{f.severity}` **{f.code}**: {f.message} _(for {', '.join(f.consumers)})_"
            + (f" Fix: {f.fix}" if f.fix else "") for f in self.findings)
        return (f"**form** `{self.form}`: {self.form_description}\n\n| consumer | verdict |\n|---|---|\n{rows}\n\n"
                f"{found}")

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(c)}</td><td><b>{html.escape(v)}</b></td></tr>"
                       for c, v in self.verdicts.items())
        found = "".join(
            f"<li><code>{html.escape(f.severity)}</code> <b>{html.escape(f.code)}</b>: {html.escape(f.message)}"
            + (f" <i>Fix: {html.escape(f.fix)}</i>" if f.fix else "") + "</li>" for f in self.findings)
        payload = html.escape(json.dumps(self.payload, indent=2, ensure_ascii=False)) if self.payload else ""
        return (f"<div><p><b>form</b> <code>{html.escape(self.form)}</code>: "
                f"{html.escape(self.form_description)}</p><table>{rows}</table><ul>{found}</ul>"
                f"<pre>{payload}</pre></div>")


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())

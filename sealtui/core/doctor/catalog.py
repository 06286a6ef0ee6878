"""The checklist of guest-facts.md §9: for every check its stable id, what the guest would say, and the fix.

One place for these texts: the checks fill in what they saw; the guest's own message and the fix come from here
unless a check knows a more precise one. `[inference]` in the facts becomes `likely` in what a check says.
Checks 29 and 31 are advice about how to look, not something a file can show: they are `ADVICE`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckSpec:
    number: int
    slug: str
    title: str
    guest: str
    """What the guest (runtime, kata agent, CDH, AA, KBS) would log when this check fails."""
    fix: str

    @property
    def id(self) -> str:
        return f"{self.number:02d}-{self.slug}"


_SPECS = [
    CheckSpec(1, "runtime-class", "the pod runs on a CoCo RuntimeClass",
              "silent: no CDH in the guest, the container starts with the raw sealed. string; the kata agent may log "
              "`attestation binaries requested for launch not available` / "
              "`/usr/local/bin/confidential-data-hub not found`",
              "set spec.runtimeClassName to kata-qemu-tdx, kata-qemu-snp, kata-qemu-se, kata-qemu-coco-dev, "
              "kata-qemu-nvidia-gpu-{tdx,snp}, a …-runtime-rs variant, or kata-remote"),
    CheckSpec(2, "cdh-enabled", "CDH is not disabled by kernel parameters",
              "silent (the kata agent's CDH client is not initialized)",
              "drop agent.guest_components_procs, or set it to confidential-data-hub or api-server-rest"),
    CheckSpec(3, "initdata-annotation", "the initdata annotation is present, named right, on the pod",
              "no cdh.toml, so CDH uses agent.aa_kbc_params or offline_fs_kbc; CDH log "
              "`offline-fs-kbc: resource not found default/…`",
              "put io.katacontainers.config.hypervisor.cc_init_data on the pod (a Deployment's "
              "spec.template.metadata.annotations), or set agent.aa_kbc_params=cc_kbc::<url> in the kernel params"),
    CheckSpec(4, "initdata-encoding", "the initdata annotation decodes (base64 → gzip → UTF-8)",
              "runtime: `initdata create gzip reader error: …` / `uncompressing initdata with gzip error: …`; "
              "the pod fails",
              "encode it as `gzip -c initdata.toml | base64 -w0` (or `sealtui initdata`)"),
    CheckSpec(5, "initdata-header", "initdata: version, algorithm and [data] are valid",
              "agent: `unsupported version: X, expected: 0.1.0`, `unsupported algorithm: …`, "
              "`parse initdata failed`; runtime: `parsing initdata annotation failed`",
              "version = \"0.1.0\", algorithm = \"sha256\" / \"sha384\" / \"sha512\" (not sha-384); every [data] "
              "value a '''…''' string"),
    CheckSpec(6, "initdata-keys", "initdata [data] keys are named right",
              "silent (the kata agent ignores the key), then as for check 03: no cdh.toml",
              "name the keys exactly \"aa.toml\", \"cdh.toml\", \"policy.rego\""),
    CheckSpec(7, "initdata-config-kept", "the initdata carries cdh.toml and aa.toml (genpolicy kept them)",
              "as for check 03: CDH falls back to agent.aa_kbc_params or offline_fs_kbc",
              "run `genpolicy --initdata-path=initdata.toml …` so that it keeps your aa.toml and cdh.toml"),
    CheckSpec(8, "initdata-digest", "the initdata digest is what the verifier expects",
              "AA fails to start: `The initdata supplied by the parameter is inconsistent with that of the current "
              "platform.`; AS: `Host Data Mismatch` / `MRCONFIGID is different from that in TDX Quote`; CDH: "
              "`request unauthorized`",
              "compute the digest from the deployed annotation's bytes; re-register reference values after any edit "
              "(genpolicy re-serializes the TOML)"),
    CheckSpec(9, "cdh-toml-parses", "cdh.toml parses as CDH reads it",
              "CDH exits: `failed to read config file /run/confidential-containers/initdata/cdh.toml` / "
              "`invalid config`; likely the pod fails at sandbox start",
              "give cdh.toml a [kbc] table with name = \"cc_kbc\" and url = …; every [[credentials]] needs "
              "resource_uri and path"),
    CheckSpec(10, "kbc", "the KBC is cc_kbc with a KBS URL",
              "offline_fs_kbc: `offline-fs-kbc: resource not found …`; another name: `unknown kbc name X, only "
              "support cc_kbc(feature kbs) and offline_fs_kbc.`",
              "[kbc] name = \"cc_kbc\", url = \"http(s)://host:port\""),
    CheckSpec(11, "cdh-socket", "cdh.toml keeps the default socket",
              "likely: local kata: the agent waits for /run/confidential-containers/cdh.sock, then errors; "
              "peer pods: kata-agent never starts",
              "omit socket, or set socket = \"unix:///run/confidential-containers/cdh.sock\""),
    CheckSpec(12, "aa-kbs", "aa.toml attests to the same KBS that cdh.toml fetches from",
              "`kbs token config not configured in config file`; `Authenticating with KBS failed …`; "
              "`request unauthorized`; TLS: `http request failed: get failed: …`",
              "the same URL in aa.toml [token_configs.kbs].url and cdh.toml [kbc].url; for https with a private "
              "CA, its PEM in both aa.toml cert and cdh.toml kbs_cert"),
    CheckSpec(13, "signature-mode", "the value's signature mode matches the guest's version and settings",
              "an unsigned fakejwsheader value on guest-components >= v0.18: `parse SealedSecret failed: Failed to "
              "parse JWS`; with skip_sealed_secret_verification = true and a 3-part value: "
              "`malformed input sealed secret`",
              "re-seal it signed (`sealtui resign`, or `secret seal --signing-kid … --signing-jwk-path …`), or set "
              "skip_sealed_secret_verification = true in cdh.toml"),
    CheckSpec(14, "clean-value", "the value is exactly a sealed string",
              "silent when it does not start with `sealed.` (leading space, a `Warning: Secrets must be "
              "provisioned…` line, quotes); a trailing newline: `Failed to parse JWS` with verification on",
              "the value must be exactly sealed.<h>.<p>.<s>: `grep -v Warning`, `--from-literal`, no trailing "
              "newline (`sealtui seal … --no-newline`)"),
    CheckSpec(15, "jws-header", "the JWS header names ES256 and a kid",
              "`Could not find kid`, `Could not get algorithm`, `Signing key error: JWS algorithm must be ES256`",
              "seal with `sealtui` or the `secret` CLI (ES256, kid set)"),
    CheckSpec(16, "kid-uri", "the kid is a resolvable KBS resource URI",
              "not a URI: `KID is invalid. Must be a KBS URI or a credential path.` / `IO Operation Failed: …` / "
              "`Invalid KID Key Path`; kbs://a/b/c: likely the wrong KBS path",
              "kid = kbs:///<repo>/<type>/<tag> (three slashes, three segments)"),
    CheckSpec(17, "kid-jwk", "the public JWK at the kid is provisioned, P-256 JSON, and verifies the value",
              "`Failed to get key from KMS: Kbs client error: get resource failed: UnAuthorized`; "
              "`JSON Parsing Error`; `Signing key error: Key must be P256`; `Signature Error: …`",
              "upload the public JWK JSON (`<kid>-public.json`) at the kid's path"),
    CheckSpec(18, "payload", "the payload is well formed",
              "`malformed input sealed secret format (json deserialization failed)`; "
              "`version not supported, only 0.1.0 supported`",
              "regenerate it with the CLI (`sealtui seal …`, or `sealtui resign` for legacy forms)"),
    CheckSpec(19, "provider", "the provider is available in the guest",
              "`Unsupported provider: aws` (likely: kata guest images have kbs and aliyun only); an envelope "
              "cannot use provider kbs",
              "use a vault secret with provider kbs, or a guest image built with that KMS_PROVIDER"),
    CheckSpec(20, "vault-name", "the vault name is a KBS URI that exists",
              "`Kbs client error: illegal kbs resource uri: …`; `kms interface when get secret from provider` + "
              "`request unauthorized` (missing or denied: both are 401)",
              "name = kbs:///<repo>/<type>/<tag>, and upload the secret there"),
    CheckSpec(21, "trustee-path", "the Trustee resource path is representable",
              "KBS: `Request path … is invalid` (404), or resource not found (401)",
              "rename the segments; with trustee-operator use kbs:///default/<secret-name>/<key> and list the "
              "Secret in the KbsConfig's kbsSecretResources"),
    CheckSpec(22, "resource-policy", "the KBS resource policy releases it to this TEE",
              "CDH: `request unauthorized`; KBS log: `Access denied by policy`",
              "kata-qemu-coco-dev needs allow_all or a policy that admits sample evidence; the trustee-operator "
              "sample policy needs an `affirming` EAR (reference values in RVPS)"),
    CheckSpec(23, "credentials", "[[credentials]] paths are legal and their resources exist",
              "CDH fails to start: `init Hub failed: illegal path to put credential : …` / "
              "`init Hub failed: kbs client get resource failed: …`",
              "put each path under /run/confidential-containers/cdh/kbs/… (aliyun: kms-credential/aliyun/"
              "clientKey_<id>.json, password_<id>.json, PrivateKmsCA_<instance>.pem) and provision the resources"),
    CheckSpec(23, "provider-files", "the provider's client-key files are put in the guest",
              "aliyun: `read client key of the credential failed: …` / `read password of the credential failed: "
              "…` / `read kms instance pem cert failed: …` / `read ecs_ram_role with `fs::read_to_string()` "
              "failed: …`",
              "add the [[credentials]] entries that put each file under "
              "/run/confidential-containers/cdh/kbs/kms-credential/<provider>/, and provision their resources"),
    CheckSpec(24, "env-splicing", "kubelet does not splice the sealed value into another string",
              "silent: likely the spliced text no longer starts with `sealed.` (or is not an env value at all)",
              "reference the variable from a shell inside the container (`sh -c 'echo $VAR'`), or keep the env "
              "variable on its own"),
    CheckSpec(25, "env-utf8", "the plaintext can be an environment value (UTF-8)",
              "agent: `Failed to unseal secret: invalid utf-8 sequence …`; the raw value is kept",
              "deliver binary secrets as files (a Secret volume)"),
    CheckSpec(26, "volume-scanned", "the kata agent scans this mount for sealed files",
              "silent (skipped), or likely for subPath: `Failed to unseal file: \"<src>\", Error: Not a directory …`",
              "mount the whole Secret as a directory, without subPath, at a neutral path; on kata 3.10–3.12 mount "
              "under /sealed/…"),
    CheckSpec(27, "volume-one-bad-file", "no other file of the same mount fails first",
              "the first failure aborts the whole mount: `Failed to unseal file: …`; the later keys stay sealed",
              "fix the bad key, or split the keys into separate Secrets or volumes"),
    CheckSpec(28, "genpolicy", "the agent policy (genpolicy) sees this value",
              "genpolicy: `Couldn't get the value of env var: X` / `Couldn't get values from secret ref: Y`; "
              "agent: `CreateContainerRequest is blocked by policy: …`",
              "give genpolicy the Secret (with `data:`, not `stringData:`) in its input; regenerate the policy and "
              "the initdata after each re-seal"),
    CheckSpec(30, "peer-pod-cdh-order", "peer pods: kata-agent starts after CDH's socket exists",
              "silent; agent: `Failed to probe CDH socket file …`",
              "use a podvm image whose kata-agent.path waits on /run/confidential-containers/cdh.sock "
              "(cloud-api-adaptor PR #2143, #2994)"),
]

CHECKS: dict[str, CheckSpec] = {s.id: s for s in _SPECS}
"""Every check by id (`NN-slug`), in the order the guest meets them."""

CHECK_ORDER: dict[str, int] = {s.id: i for i, s in enumerate(_SPECS)}

ADVICE = [
    ("29-not-via-exec", "Check the unsealed value where the container's own process sees it (`kubectl logs`, or "
     "a file volume), not with `kubectl exec … env`: exec'd processes get the raw sealed. string on kata without "
     "PR #13859."),
    ("31-real-cause", "The kata agent only logs `[CDH] [ERROR]: Unseal Secret failed`; the cause is in CDH's own "
     "log (`Caused by: …`). Raise it with `[log] level = \"debug\"` in cdh.toml and read the CDH and KBS logs."),
]
"""Checks 29 and 31 of the checklist: how to look, not something a manifest can show."""


def spec(check_id: str) -> CheckSpec:
    return CHECKS[check_id]

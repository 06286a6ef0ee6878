"""What the front ends do, as plain functions with typed inputs and results (DESIGN §2).

The CLI (`sealtui.cli`) and the terminal UI (`sealtui.app`, `sealtui.screens`) call the same functions here, so
they connect, sign, seal and unseal the same way and say the same things. No Textual, no argparse. Modules:

- `kms`: where credentials come from, the KMS target, and `connect`, the one place a provider client is built;
- `signing`: a signing key (a JWK file, a generated key, a key held in the KMS), its signer and public JWK;
- `sealing`: seal one value or many; `unsealing`: unseal with its notes;
- `review`: scan and diff as both front ends run them;
- `doctor`: `sealtui doctor` with its options as given, and what to provision where as text;
- `settings`: what outlives a TUI session; `local_kms`: the built-in local KMS instance.

Heavy modules (the Alibaba SDK, the sandbox server, pydantic models) load inside the functions that need them.
"""

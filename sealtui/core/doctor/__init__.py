"""`sealtui doctor`: before deploying, every reason a pod would still see `sealed.…`, and what to provision where.

Reads Kubernetes manifests, finds every value that would reach the kata agent (env values, envFrom, files of
Secret / ConfigMap / projected volumes), and runs the checklist of guest-facts.md §9 on each workload and each
value, in the order the guest meets them. Each check is `ok`, `fails` (with the guest's own message and the fix)
or `cannot-tell` (with what would tell). The core rules hold: no UI, SDK or network code here.

    >>> from sealtui.core.doctor import DoctorOptions, run_doctor
    >>> run = run_doctor(["k8s/"], DoctorOptions(kata_version="3.28"))      # doctest: +SKIP
    >>> run.result.would_stay_sealed, run.plan.kbs_client("token")            # doctest: +SKIP
"""

from sealtui.core.doctor.catalog import ADVICE, CHECKS, CheckSpec
from sealtui.core.doctor.engine import DoctorOptions, DoctorRun, diagnose, diagnose_text, run_doctor
from sealtui.core.doctor.model import (
    Check,
    Container,
    DoctorResult,
    InitdataInfo,
    InputProblem,
    ProvisionItem,
    Status,
    Value,
    Workload,
    failures_first,
)
from sealtui.core.doctor.provision import ProvisionPlan

__all__ = ["ADVICE", "CHECKS", "Check", "CheckSpec", "Container", "DoctorOptions", "DoctorResult", "DoctorRun",
           "InitdataInfo", "InputProblem", "ProvisionItem", "ProvisionPlan", "Status", "Value", "Workload",
           "diagnose", "diagnose_text", "failures_first", "run_doctor"]

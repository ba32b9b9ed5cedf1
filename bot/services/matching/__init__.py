"""Services: caseload proposals (/match), their approval, and the `match` CLI.

The package turns one district's open IEP services and every eligible provider into the
matcher's input for the coming school week (`inputs`), stores the proposal with a fingerprint of
its own inputs (`proposals`; `fingerprint` says which they are), and approves it in one transaction
(`approval`). `filters` reads `/match` arguments and finds the district.
"""

from __future__ import annotations

from bot.services.districts import find_district
from bot.services.errors import Conflict, InvalidInput, NotFound
from bot.services.matching.approval import (
    Approval,
    approve,
    deliver_assignment_dms,
    discard,
    proposal_filters,
)
from bot.services.matching.common import (
    KIND,
    SERVICE_LABEL,
    SERVICES,
    ZONE_ABBR,
    Stale,
    hours,
    zone_abbr,
)
from bot.services.matching.filters import (
    USAGE,
    DistrictInfo,
    Filters,
    check_manager,
    district_name_for,
    parse_filters,
    resolve_district,
)
from bot.services.matching.fingerprint import Scope, fingerprint
from bot.services.matching.inputs import Context, Week, build_input, target_monday
from bot.services.matching.proposals import (
    Proposal,
    ProviderPlan,
    SessionOut,
    compute,
    preview_only,
    propose,
    render,
    text_summary,
)
from bot.services.matching.rematch import propose_rematch, rematch_of

__all__ = [
    "KIND",
    "SERVICES",
    "SERVICE_LABEL",
    "USAGE",
    "ZONE_ABBR",
    "Approval",
    "Conflict",
    "InvalidInput",
    "NotFound",
    "Context",
    "DistrictInfo",
    "Filters",
    "Proposal",
    "ProviderPlan",
    "Scope",
    "SessionOut",
    "Stale",
    "Week",
    "approve",
    "build_input",
    "check_manager",
    "compute",
    "deliver_assignment_dms",
    "discard",
    "district_name_for",
    "find_district",
    "fingerprint",
    "hours",
    "parse_filters",
    "preview_only",
    "propose",
    "propose_rematch",
    "rematch_of",
    "proposal_filters",
    "render",
    "resolve_district",
    "target_monday",
    "text_summary",
    "zone_abbr",
]

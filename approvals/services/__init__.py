"""Every write to action requests, one module per use case:

- ``transitions``: the state machine, the only writer of ``status``;
- ``filing``: ``submit``;
- ``reviews``: ``review``/``approve``/``deny``, ``cancel``, ``report_outcome``, ``expire_overdue``;
- ``screening``: ``complete_screening`` (in a worker);
- ``reveal``: the audited reveal of an original payload.

The names below are the public face the views, commands and tasks call.
"""

from approvals.services.filing import Submission, submit
from approvals.services.reveal import reveal
from approvals.services.reviews import (
    approve,
    cancel,
    deny,
    expire_overdue,
    report_outcome,
    review,
)
from approvals.services.screening import complete_screening

__all__ = [
    "Submission",
    "approve",
    "cancel",
    "complete_screening",
    "deny",
    "expire_overdue",
    "report_outcome",
    "reveal",
    "review",
    "submit",
]

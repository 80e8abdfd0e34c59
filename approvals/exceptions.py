"""Why the approvals domain refuses something. ``airlock.api`` maps them to HTTP."""

from __future__ import annotations

from airlock.errors import Conflict, Forbidden


class ReviewRefused(Exception):
    """A refused review: recorded in the audit log before it is raised."""


class SelfApproval(Forbidden, ReviewRefused):
    code = "self_approval"
    message = "the requester cannot approve their own action"


class NotAReviewer(Forbidden, ReviewRefused):
    code = "not_a_reviewer"
    message = "you are not in a reviewer group of this request"


class AlreadyReviewed(Conflict, ReviewRefused):
    code = "already_reviewed"
    message = "you have already reviewed this request"


class NotPending(Conflict, ReviewRefused):
    code = "not_pending"
    message = "the request is no longer pending"


class NotRequester(Forbidden):
    code = "not_requester"
    message = "only the requester can do this"


class NotApproved(Conflict):
    code = "not_approved"
    message = "the request was not approved"


class AlreadyReported(Conflict):
    code = "already_reported"
    message = "the outcome was already reported"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    message = "this Idempotency-Key was used with a different request"


class RevealForbidden(Forbidden):
    code = "reveal_forbidden"
    message = "policy forbids revealing this request's payload"


class OriginalNotKept(Conflict):
    code = "original_not_kept"
    message = "the original payload is not kept (no PAYLOAD_ENCRYPTION_KEY when it was screened)"


class NotScreened(Conflict):
    code = "not_screened"
    message = "the payload has not been screened yet"

import logging

from celery import shared_task

from audit import catalogue, sequencer
from audit.services import NoSigningKey, record, sign_checkpoint
from audit.verification import verify_database

logger = logging.getLogger(__name__)


@shared_task(name="audit.sign_checkpoint")
def sign_checkpoint_task() -> int | None:
    try:
        checkpoint = sign_checkpoint()
    except NoSigningKey:
        logger.error("audit checkpoints are not being signed: AUDIT_SIGNING_KEY is not set")
        return None
    return checkpoint.tree_size if checkpoint else None


@shared_task(name="audit.verify_log")
def verify_log_task() -> bool:
    """Nightly: re-verify the whole log; on failure, an alert event and an ERROR line."""
    result = verify_database()
    if not result.ok:
        logger.error(
            "AUDIT LOG DOES NOT VERIFY: first bad sequence %s: %s",
            result.first_bad_seq,
            "; ".join(result.problems[:5]),
        )
        record(
            catalogue.AUDIT_VERIFICATION_FAILED,
            "system",
            "audit:log",
            {"first_bad_seq": result.first_bad_seq, "problems": result.problems[:20]},
        )
    return result.ok


def check_sequencer() -> dict:
    """The stall alarm: when the oldest unsequenced event has waited longer than
    ``AUDIT_SEQUENCE_STALL_SECONDS``, an ERROR line and an ``audit.sequencer_stalled``
    event (itself unsequenced until the sequencer runs again)."""
    state = sequencer.status()
    if state["stalled"]:
        logger.error(
            "AUDIT SEQUENCER STALLED: %s events wait, the oldest for %.0f s; the log is "
            "sequenced through %s. Is `manage.py audit_sequence --follow` running?",
            state["unsequenced"],
            state["oldest_unsequenced_seconds"],
            state["sequenced_through"],
        )
        record(
            catalogue.AUDIT_SEQUENCER_STALLED,
            "system",
            "audit:log",
            {
                "sequenced_through": state["sequenced_through"],
                "unsequenced": state["unsequenced"],
                "oldest_unsequenced_seconds": int(state["oldest_unsequenced_seconds"]),
            },
        )
    return state


@shared_task(name="audit.sequence")
def sequence_task() -> int:
    """Beat, every ``AUDIT_SEQUENCE_CHECK_SECONDS``: raise the stall alarm if the
    follower has fallen behind, then sequence what waits (without waiting for a
    follower that holds the head: it is doing the work)."""
    check_sequencer()
    try:
        return sequencer.sequence_all(wait=False)
    except sequencer.SequencingError as exc:
        logger.error("AUDIT SEQUENCER CANNOT PROCEED: %s", exc)
        return 0

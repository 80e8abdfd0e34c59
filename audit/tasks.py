import logging

from celery import shared_task

from audit import catalogue
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

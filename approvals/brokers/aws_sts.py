"""``aws_sts``: temporary AWS credentials for one redeemed grant.

``AssumeRole`` on the rule's role (``grant: {broker: aws_sts, role_arn, actions}``)
for 15 minutes (STS's minimum), with a session policy that allows only the rule's
actions on the approved resource (an ARN, or ``s3://bucket/key`` for S3), so the
session can never do more than both the role and the approval allow. The session is
named after the request, its ``SourceIdentity`` names the agent (it survives role
chaining and shows in CloudTrail) and its tags name the request and the grant.

STS sessions cannot be ended one by one. Revoking a grant early puts an inline
policy on the role that denies every session tagged with that grant's ``jti``
(``aws:PrincipalTag/airlock-grant``); at expiry there is nothing left to do. The
role's trust policy must allow ``sts:TagSession`` and ``sts:SetSourceIdentity``,
and Airlock's own AWS identity ``iam:PutRolePolicy`` on it for revocation.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from approvals.brokers import BrokerError, GrantContext, Issued

DURATION_SECONDS = 900
# botocore logs every response body at DEBUG, and AssumeRole's holds the minted
# secret: never below INFO, whatever the deployment's log level.
logging.getLogger("botocore.parsers").setLevel(logging.INFO)
_SAFE = re.compile(r"[^\w+=,.@-]")


def resource_arn(resource: str) -> str:
    if resource.startswith("arn:"):
        return resource
    if resource.startswith("s3://"):
        return "arn:aws:s3:::" + resource[len("s3://") :]
    raise BrokerError("the resource is neither an ARN nor s3://bucket/key")


def session_policy(actions: list[str], resource: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": sorted(actions), "Resource": resource_arn(resource)}
        ],
    }


def _client(service: str) -> Any:
    import boto3  # only deployments that use this broker need boto3

    return boto3.client(
        service,
        region_name=settings.GRANTS["AWS_REGION"],
        endpoint_url=settings.GRANTS["AWS_ENDPOINT"] or None,
    )


def _name(text: str, limit: int) -> str:
    return _SAFE.sub("-", text)[:limit]


class AwsStsBroker:
    kind = "aws_sts"

    def mint(self, grant: GrantContext, options: dict[str, Any]) -> Issued:
        role_arn, actions = options.get("role_arn"), options.get("actions") or []
        if not role_arn or not actions:
            raise BrokerError("the rule names no role_arn or actions")
        policy = session_policy(actions, grant.resource)
        try:
            answer = _client("sts").assume_role(
                RoleArn=role_arn,
                RoleSessionName=_name(f"airlock-{grant.request_id}", 64),
                DurationSeconds=DURATION_SECONDS,
                Policy=json.dumps(policy, separators=(",", ":")),
                SourceIdentity=_name(f"airlock-agent-{grant.agent}", 64),
                Tags=[
                    {"Key": "airlock-request", "Value": grant.request_id},
                    {"Key": "airlock-grant", "Value": grant.jti},
                    {"Key": "airlock-agent", "Value": _name(grant.agent, 256)},
                ],
            )
        except Exception as exc:  # botocore's errors: never holding our secrets
            raise BrokerError(f"aws_sts: {type(exc).__name__}: {exc}"[:300]) from None
        credentials = answer["Credentials"]
        expiration: datetime = credentials["Expiration"]
        if expiration.tzinfo is None:
            expiration = expiration.replace(tzinfo=UTC)
        return Issued(
            handle=credentials["AccessKeyId"],
            scope=f"{role_arn} {grant.jti}",
            expires_at=expiration,
            secret={
                "kind": self.kind,
                "access_key_id": credentials["AccessKeyId"],
                "secret_access_key": credentials["SecretAccessKey"],
                "session_token": credentials["SessionToken"],
                "expiration": expiration.isoformat(),
                "assumed_role_arn": answer["AssumedRoleUser"]["Arn"],
                "session_policy": policy,
            },
        )

    def revoke(self, handle: str, scope: str, *, expired: bool = False) -> None:
        """Deny the grant's session on its role (idempotent: the same policy name).
        An expired session needs nothing: STS has ended it. The deny policy of an
        early revocation stays on the role; it may be deleted 15 minutes later."""
        if expired:
            return
        role_arn, _, jti = scope.partition(" ")
        role_name = role_arn.rsplit("/", 1)[-1]
        deny = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalTag/airlock-grant": jti}},
                }
            ],
        }
        try:
            _client("iam").put_role_policy(
                RoleName=role_name,
                PolicyName=_name(f"airlock-revoked-{jti}", 128),
                PolicyDocument=json.dumps(deny, separators=(",", ":")),
            )
        except Exception as exc:
            raise BrokerError(f"aws_sts: {type(exc).__name__}: {exc}"[:300]) from None

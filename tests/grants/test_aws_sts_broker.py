"""The aws_sts broker against moto's local server, through boto3's real client: the
redemption returns working temporary credentials of the rule's role, asked for with
a session policy narrowed to the approved resource, 15 minutes, a SourceIdentity
naming the agent and tags naming the request and the grant (read back from what the
server received); revoking the grant early puts a deny on that session's tag.

moto does not evaluate IAM policies, so this shows what Airlock asks AWS for, not
AWS's enforcement of it.
"""

from __future__ import annotations

import json
import logging
import socket
from urllib.parse import parse_qs

import boto3
import pytest
from moto.moto_api import recorder
from moto.server import ThreadedMotoServer

from approvals.grants import tokens
from audit.models import AuditEvent
from tests.conftest import Api
from tests.factories import apply_policy, make_agent
from tests.grants.conftest import redeem

ROLE = "arn:aws:iam::123456789012:role/airlock-exports"
POLICY = f"""
rules:
  - name: bucket-exports
    match: {{action: data.export, resource: "s3://team-bucket/*"}}
    effect: require_approval
    reviewers: [reviewers]
    grant:
      audience: s3-exporter
      broker: aws_sts
      role_arn: "{ROLE}"
      actions: [s3:GetObject]
"""


@pytest.fixture
def moto_endpoint(settings, monkeypatch, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(recorder, "_location", str(tmp_path / "moto-recording"))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    settings.GRANTS = {**settings.GRANTS, "AWS_ENDPOINT": endpoint}
    boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1").create_role(
        RoleName="airlock-exports", AssumeRolePolicyDocument="{}"
    )
    recorder.reset_recording()
    recorder.start_recording()
    try:
        yield endpoint
    finally:
        recorder.stop_recording()
        server.stop()


def _assume_role_calls() -> list[dict[str, list[str]]]:
    calls = []
    for line in recorder.download_recording().splitlines():
        entry = json.loads(line)
        body = entry["body"]
        if entry["body_encoded"]:
            import base64

            body = base64.b64decode(body).decode()
        form = parse_qs(body or "")
        if form.get("Action") == ["AssumeRole"]:
            calls.append(form)
    return calls


def test_redeeming_returns_narrow_temporary_aws_credentials(
    moto_endpoint, agent_api, reviewer, agent_owner, caplog
):
    caplog.set_level(logging.DEBUG)
    apply_policy(POLICY)
    exporter = Api(make_agent(agent_owner.user, name="s3-exporter").token)
    filed = agent_api.file({"action": "data.export", "resource": "s3://team-bucket/exports/x.csv"})
    action_id = filed.json()["id"]
    Api(reviewer.token).approve(action_id)
    token = agent_api.get(f"/api/v1/actions/{action_id}").json()["grant"]
    response = redeem(exporter, token)
    assert response.status_code == 200, response.json()
    credential = response.json()["credential"]
    assert credential["kind"] == "aws_sts"

    # The credentials work, as the rule's role, in a session named after the request.
    identity = boto3.client(
        "sts",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id=credential["access_key_id"],
        aws_secret_access_key=credential["secret_access_key"],
        aws_session_token=credential["session_token"],
    ).get_caller_identity()
    assert identity["Arn"] == (
        f"arn:aws:sts::123456789012:assumed-role/airlock-exports/airlock-{action_id}"
    )

    [call] = _assume_role_calls()
    assert call["RoleArn"] == [ROLE]
    assert call["DurationSeconds"] == ["900"]
    assert call["SourceIdentity"] == ["airlock-agent-etl-bot"]
    assert json.loads(call["Policy"][0]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": "arn:aws:s3:::team-bucket/exports/x.csv",
            }
        ],
    }
    tags = {call[f"Tags.member.{i}.Key"][0]: call[f"Tags.member.{i}.Value"][0] for i in (1, 2, 3)}
    assert tags == {
        "airlock-request": action_id,
        "airlock-grant": tokens.jti_for(action_id),
        "airlock-agent": "etl-bot",
    }

    # Revoked early: a deny on that grant's session tag is put on the role.
    revoked = Api(agent_owner.token).post(
        f"/api/v1/actions/{action_id}/grant/revoke", {"reason": "no longer needed"}
    )
    assert revoked.status_code == 200
    iam = boto3.client("iam", endpoint_url=moto_endpoint, region_name="us-east-1")
    deny = iam.get_role_policy(
        RoleName="airlock-exports", PolicyName=f"airlock-revoked-{tokens.jti_for(action_id)}"
    )["PolicyDocument"]
    if isinstance(deny, str):
        deny = json.loads(deny)
    assert deny["Statement"][0]["Effect"] == "Deny"
    assert deny["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:PrincipalTag/airlock-grant": tokens.jti_for(action_id)}
    }
    events = AuditEvent.objects.filter(target=f"action:{action_id}")
    assert events.get(event_type="credential.issued").data["handle"] == credential["access_key_id"]
    assert events.get(event_type="credential.revoked").data["reason"] == "grant revoked"
    secret = credential["secret_access_key"]
    assert not any(secret in e.canonical for e in AuditEvent.objects.all())
    assert secret not in caplog.text

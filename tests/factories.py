"""factory-boy factories. Agents and tokens are made through the real services so
tests hold a working bearer token, exactly as an operator gets one."""

from __future__ import annotations

from dataclasses import dataclass

import factory
from django.contrib.auth.models import Group

from accounts.models import Agent, User
from accounts.services import create_agent, create_personal_token


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def groups(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.set([Group.objects.get_or_create(name=name)[0] for name in extracted])


@dataclass
class AgentIdentity:
    agent: Agent
    token: str


@dataclass
class PersonIdentity:
    user: User
    token: str


_agent_counter = iter(range(1, 10**9))


def make_agent(owner: User, name: str | None = None) -> AgentIdentity:
    agent, token = create_agent(
        name=name or f"agent-{next(_agent_counter)}", owner_email=owner.email
    )
    return AgentIdentity(agent, token)


def make_person(email: str | None = None, groups: list[str] | None = None) -> PersonIdentity:
    user = (
        UserFactory(email=email, groups=groups or []) if email else UserFactory(groups=groups or [])
    )
    _, token = create_personal_token(email=user.email)
    return PersonIdentity(user, token)


def apply_policy(document: str):
    """Store and activate a policy, as `policy_apply` does on a first install."""
    from policies.services import propose

    return propose(document=document, actor="system", single_admin=True)


def quorum_policy(approvals: int, reviewers: str = "reviewers") -> str:
    return (
        f"default:\n  effect: require_approval\n  approvals: {approvals}\n"
        f"  reviewers: [{reviewers}]\n  timeout: 1h\n"
    )

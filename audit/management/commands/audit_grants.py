from django.core.management.base import BaseCommand, CommandParser

TEMPLATE = """-- Airlock's application role: everything it needs, and on the audit tables only
-- what appending needs. Run as the database owner; the migrations run as the owner.
CREATE ROLE {role} LOGIN PASSWORD 'change-me';
GRANT CONNECT ON DATABASE {database} TO {role};
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
REVOKE UPDATE, DELETE, TRUNCATE ON audit_auditevent, audit_checkpoint FROM {role};
REVOKE DELETE, TRUNCATE ON audit_chainhead FROM {role};
-- The role may move the chain head forward (UPDATE) but never remove it.
GRANT SELECT, INSERT ON audit_auditevent, audit_checkpoint TO {role};
-- The sequencer fills in an event's place in the chain, once (the trigger refuses any
-- other change): UPDATE of those five columns only.
GRANT UPDATE (seq, canonical, leaf_hash, prev_hash, chain_hash) ON audit_auditevent TO {role};
GRANT SELECT, UPDATE ON audit_chainhead TO {role};
"""


class Command(BaseCommand):
    help = "Print the SQL for a production role with SELECT and INSERT only on the audit log."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", default="airlock_app")
        parser.add_argument("--database", default="airlock")

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(TEMPLATE.format(role=options["role"], database=options["database"]))

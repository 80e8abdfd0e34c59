-- One request-like row and one unsequenced audit event per transaction: what a filed,
-- policy-allowed action writes with the deferred sequencer (benchmarks/audit.sh).
\set n random(1, 2000000000)
BEGIN;
INSERT INTO bench_request (agent, action, resource, payload_sha256, status, created_at)
    VALUES ('agent:bench', 'data.export', 'postgres://warehouse/customers', md5(:n::text), 'allowed', now());
INSERT INTO audit_auditevent (at, event_type, actor, target, data, canonical, leaf_hash, prev_hash, chain_hash)
    VALUES (now(), 'action.created', 'agent:bench', 'action:' || :n,
            '{"action":"data.export","approvals":2,"resource":"postgres://warehouse/customers"}', '', '', '', '');
END;

-- The same transaction in the old shape: the audit insert takes a one-row head's lock
-- (SELECT ... FOR UPDATE) and moves it, holding it until commit. A head of its own
-- (bench_head), so the real chain head is left alone (benchmarks/audit.sh).
\set n random(1, 2000000000)
BEGIN;
INSERT INTO bench_request (agent, action, resource, payload_sha256, status, created_at)
    VALUES ('agent:bench', 'data.export', 'postgres://warehouse/customers', md5(:n::text), 'allowed', now());
SELECT seq, chain_hash FROM bench_head WHERE id = 1 FOR UPDATE;
INSERT INTO bench_plain_event (at, event_type, actor, target, data, canonical, leaf_hash, prev_hash, chain_hash)
    VALUES (now(), 'action.created', 'agent:bench', 'action:' || :n,
            '{"action":"data.export","approvals":2,"resource":"postgres://warehouse/customers"}', '', '',
            md5(random()::text) || md5(clock_timestamp()::text), md5(random()::text) || md5(:n::text));
UPDATE bench_head SET seq = seq + 1 WHERE id = 1;
END;

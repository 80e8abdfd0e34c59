-- The database's ceiling for the allowed fast path: what one filing must write and
-- commit (a request row and an audit row, synchronous commit on), nothing else.
BEGIN;
INSERT INTO bench_request (id, action, resource, environment, status, payload_sha256, created_at)
  VALUES (gen_random_uuid(), 'bench.read', 'db/orders', 'production', 'approved',
          md5(random()::text), now());
INSERT INTO bench_audit (at, event_type, actor, target, data)
  VALUES (now(), 'action.created', 'agent:bench-bot', 'action:x', '{"status":"approved"}');
COMMIT;

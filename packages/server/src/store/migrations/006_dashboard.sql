-- The dashboard (docs/dashboard.md): the payments list is keyset-paginated newest first, with optional
-- filters by sales unit, state and reference prefix. Each index serves one shape of that query, so a
-- page costs an index range scan of about one page of rows even with 100,000 payments
-- (test/dashboard.scale.test.ts checks the plans). A payment's timeline and the request log use the
-- indexes of migrations 001, 002 and 004.

-- Everything, newest first.
create index payments_created on payments (created_at, id);
-- One sales unit, newest first (and the checklist report's payments of a unit since a time).
create index payments_msn_created on payments (msn, created_at, id);
-- One state, across units or within one.
create index payments_state_created on payments (state, created_at, id);
create index payments_msn_state_created on payments (msn, state, created_at, id);
-- Reference prefix search: text_pattern_ops answers range predicates on the raw characters, whatever
-- the database's collation.
create index payments_reference_prefix on payments (reference text_pattern_ops);

-- A replayed answer is the stored one, byte for byte (spec §12.1 "the same status and body"): json keeps
-- the text as written, where jsonb reorders members (by length, then bytes).
alter table idempotency_keys alter column body type json using body::json;

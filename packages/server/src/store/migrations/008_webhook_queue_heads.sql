-- The head of each (registration, payment) delivery queue is marked, so a dispatcher's claim reads only
-- heads that are due (an index range per registration) instead of testing every pending row for an
-- earlier one: a receiver that is down with a backlog of thousands then costs a claim nothing.
--
-- A pending delivery is a head when no earlier pending delivery of its queue holds it back (one held
-- back by a 'reorder' fault does not). Writers keep that true (webhooksStore.ts): a new delivery is a
-- head when its queue is empty, a head that leaves the queue (or is reordered) promotes the next, and
-- repairQueueHeads, run after the commits that may have raced, heads any queue left without one.
alter table webhook_deliveries add column is_head boolean not null default false;

update webhook_deliveries d set is_head = true
 where d.state = 'pending'
   and not exists (
         select 1 from webhook_deliveries earlier
          where earlier.registration_id = d.registration_id and earlier.payment_id = d.payment_id
            and earlier.state = 'pending' and earlier.id < d.id and not earlier.out_of_order);

create index webhook_deliveries_heads on webhook_deliveries (registration_id, next_attempt_at, id) where state = 'pending' and is_head;
-- repairQueueHeads looks up the pending deliveries of given payments.
create index webhook_deliveries_pending_payment on webhook_deliveries (payment_id) where state = 'pending';
drop index webhook_deliveries_due;

-- Capture failures at the acquirer as API faults (epayment-api §8.3, §11.5): 'fundsUnavailable' (6260)
-- and 'captureFailed' (6280) strike inside a capture that the platform accepted, so they have no phase.
alter table fault_rules drop constraint fault_rules_kind_check;
alter table fault_rules drop constraint fault_rules_check;
alter table fault_rules drop constraint fault_rules_check1;
alter table fault_rules add constraint fault_rules_kind_check
  check (kind in ('error', 'latency', 'timeout', 'fundsUnavailable', 'captureFailed', 'delay', 'drop', 'duplicate', 'reorder'));
alter table fault_rules add constraint fault_rules_target_kind_check
  check ((target = 'api') = (kind in ('error', 'latency', 'timeout', 'fundsUnavailable', 'captureFailed')));
alter table fault_rules add constraint fault_rules_phase_kind_check
  check ((phase is not null) = (kind in ('error', 'latency', 'timeout')));

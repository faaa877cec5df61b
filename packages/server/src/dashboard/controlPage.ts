/**
 * The clock and faults panels (test mode; docs/time-and-faults.md): the same operations as
 * POST /kassa/v1/clock and /kassa/v1/faults (control/clockOffsets.ts, control/faultRules.ts), for an
 * admin rather than one key set, so every sales unit is in reach.
 */
import type { ClockView } from '../control/clockOffsets.ts';
import { API_FAULT_KINDS, type FaultRule, isCaptureFault, WEBHOOK_FAULT_KINDS } from '../control/types.ts';
import { html, type SafeHtml } from '../customer/html.ts';
import type { SalesUnit } from '../payments/salesUnits.ts';

const EVENT_TYPES = ['authorized', 'aborted', 'expired', 'terminated', 'captured', 'cancelled', 'refunded', 'created'].map(
  (name) => `epayments.payment.${name}.v1`,
);

function offsetText(ms: number): string {
  // Whole seconds first, so that 59.6 s carries into the next minute instead of reading "60 s".
  const total = Math.round(ms / 1000);
  if (total === 0) return 'real time';
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return `${[days && `${days} d`, hours && `${hours} h`, minutes && `${minutes} min`, seconds && `${seconds} s`].filter(Boolean).join(' ')} ahead`;
}

export function controlBody(options: {
  testMode: boolean;
  clock: ClockView;
  units: SalesUnit[];
  rules: FaultRule[];
  message?: { text: string; kind: 'notice' | 'error' };
}): SafeHtml {
  const { clock, units, rules, message } = options;
  if (!options.testMode) {
    return html`<p>Time control and fault injection exist only in test mode.</p>`;
  }
  return html`${message ? html`<p class="${message.kind}" role="${message.kind === 'error' ? 'alert' : 'status'}">${message.text}</p>` : ''}
<section class="panel" aria-labelledby="clock-title">
<h2 id="clock-title">Clock</h2>
<p>Real time <time class="tick" data-offset="0" datetime="${clock.wallClock}">${clock.wallClock}</time>.
Global time <time class="tick" id="global-now" data-offset="${clock.global.offsetMs}" datetime="${clock.global.now}">${clock.global.now}</time> (${offsetText(clock.global.offsetMs)}).</p>
<table class="grid">
<caption class="visually-hidden">Time of each sales unit</caption>
<thead><tr><th scope="col">Sales unit</th><th scope="col">Now</th><th scope="col">Offset</th></tr></thead>
<tbody>${clock.salesUnits.map(
    (unit) =>
      html`<tr data-msn="${unit.msn}"><td>${unit.msn}</td><td><time class="tick" data-offset="${unit.offsetMs}" datetime="${unit.now}">${unit.now}</time></td><td>${offsetText(unit.offsetMs)}</td></tr>`,
  )}</tbody>
</table>
<form class="filters" method="post" action="/dashboard/control/clock" aria-label="Move the clock">
<div><label for="clock-msn">Which clock</label><select id="clock-msn" name="msn"><option value="">Global (every sales unit)</option>${units.map(
    (unit) => html`<option value="${unit.msn}">${unit.msn} ${unit.name}</option>`,
  )}</select></div>
<div><label for="advance">Advance by</label><input id="advance" name="advance" type="number" min="0" step="any" inputmode="decimal"></div>
<div><label for="unit">Unit</label><select id="unit" name="unit"><option value="60">minutes</option><option value="3600">hours</option><option value="86400">days</option><option value="1">seconds</option></select></div>
<div><label for="set">or set to (UTC)</label><input id="set" name="set" type="datetime-local" step="1"></div>
<div class="buttons"><button type="submit">Move the clock</button></div>
</form>
<p class="hint">Time only moves forward. Expiry, capture deadlines, token expiry and webhook retries follow at once; due payments are swept as soon as the clock moves.</p>
</section>
<section class="panel" aria-labelledby="faults-title">
<h2 id="faults-title">Faults</h2>
<table class="grid faults">
<caption class="visually-hidden">Fault rules</caption>
<thead><tr><th scope="col">Rule</th><th scope="col">Sales unit</th><th scope="col">Target</th><th scope="col">Fault</th><th scope="col">Matches</th><th scope="col">When it fires</th><th scope="col">Matched / injected</th><th scope="col">Action</th></tr></thead>
<tbody>${
    rules.length === 0
      ? html`<tr><td colspan="8">No fault rules.</td></tr>`
      : rules.map(
          (rule) => html`<tr data-rule="${rule.id}">
<td>${rule.id}</td><td>${rule.msn}</td><td>${rule.target}</td>
<td>${rule.kind}${rule.status !== null ? ` ${rule.status}` : ''}${rule.delayMs !== null ? ` ${rule.delayMs} ms` : ''}${rule.when ? ` ${rule.when}` : ''}${rule.retryAfterSeconds !== null ? `, Retry-After ${rule.retryAfterSeconds} s` : ''}</td>
<td>${
            Object.entries(rule.match)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ') || 'everything'
          }</td>
<td>${rule.everyNth !== null ? `every ${rule.everyNth}th` : rule.probability !== null ? `p=${rule.probability}, seed ${rule.seed}` : 'always'}${rule.count !== null ? `, at most ${rule.count}×` : ''}</td>
<td>${rule.matched} / ${rule.injected}</td>
<td><form method="post" action="/dashboard/control/faults/${rule.id}/delete"><input type="hidden" name="msn" value="${rule.msn}">
<button type="submit" class="secondary small" aria-label="Delete fault rule ${rule.id}">Delete</button></form></td>
</tr>`,
        )
  }</tbody>
</table>
<h3>New fault rule</h3>
<form class="filters fault-form" method="post" action="/dashboard/control/faults" aria-label="New fault rule">
<div><label for="fault-msn">Sales unit</label><select id="fault-msn" name="msn" required>${units.map(
    (unit) => html`<option value="${unit.msn}">${unit.msn} ${unit.name}</option>`,
  )}</select></div>
<div><label for="target">Target</label><select id="target" name="target"><option value="api">API calls</option><option value="webhook">Webhook deliveries</option></select></div>
<div><label for="kind">Fault</label><select id="kind" name="kind">${API_FAULT_KINDS.map((k) => html`<option data-target="api">${k}</option>`)}${WEBHOOK_FAULT_KINDS.map(
    (k) => html`<option data-target="webhook">${k}</option>`,
  )}</select></div>
<div data-for="api"><label for="when">When</label><select id="when" name="when"><option value="before">before the operation</option><option value="after">after it (answer lost)</option></select></div>
<div data-for="api"><label for="status">Status</label><select id="status" name="status"><option value="">—</option>${[
    500, 502, 503, 504, 429,
  ].map((s) => html`<option>${s}</option>`)}</select></div>
<div data-for="api"><label for="retryAfterSeconds">Retry-After (s)</label><input id="retryAfterSeconds" name="retryAfterSeconds" type="number" min="0"></div>
<div><label for="delayMs">Delay (ms)</label><input id="delayMs" name="delayMs" type="number" min="0"></div>
<div data-for="api"><label for="route">Route (or prefix*)</label><input id="route" name="route" type="text" placeholder="/epayment/v1/payments/:reference/capture"></div>
<div data-for="api"><label for="method">Method</label><select id="method" name="method"><option value="">any</option><option>GET</option><option>POST</option><option>DELETE</option></select></div>
<div data-for="webhook"><label for="eventType">Event type</label><select id="eventType" name="eventType"><option value="">any</option>${EVENT_TYPES.map(
    (e) => html`<option>${e}</option>`,
  )}</select></div>
<div><label for="everyNth">Every nth</label><input id="everyNth" name="everyNth" type="number" min="1"></div>
<div><label for="probability">or probability</label><input id="probability" name="probability" type="number" min="0" max="1" step="any"></div>
<div><label for="seed">Seed</label><input id="seed" name="seed" type="text"></div>
<div><label for="count">At most (times)</label><input id="count" name="count" type="number" min="1"></div>
<div class="buttons"><button type="submit">Add the rule</button></div>
</form>
<p class="hint">Injected faults show in the request log (column "Fault") and on webhook deliveries.</p>
</section>`;
}

/** The control API's rule request from the dashboard's form fields (empty fields left out). */
export function faultRequestFromForm(form: Record<string, string | undefined>): Record<string, unknown> {
  const text = (name: string) => (form[name]?.trim() ? (form[name] as string).trim() : undefined);
  const number = (name: string) => (text(name) === undefined ? undefined : Number(text(name)));
  const target = text('target');
  const match: Record<string, string> = {};
  if (target === 'api') {
    if (text('route')) match.route = text('route') as string;
    if (text('method')) match.method = text('method') as string;
  } else if (text('eventType')) match.eventType = text('eventType') as string;
  const kind = text('kind');
  const body: Record<string, unknown> = { target, kind, match };
  // A capture failure strikes inside the capture; the form's "when" does not apply to it.
  if (target === 'api' && !isCaptureFault(kind ?? '')) body.when = text('when');
  if (kind === 'error') {
    if (number('status') !== undefined) body.status = number('status');
    if (number('retryAfterSeconds') !== undefined) body.retryAfterSeconds = number('retryAfterSeconds');
  }
  if (number('delayMs') !== undefined) body.delayMs = number('delayMs');
  for (const name of ['everyNth', 'probability', 'count'] as const) if (number(name) !== undefined) body[name] = number(name);
  if (text('seed')) body.seed = text('seed');
  for (const [name, value] of Object.entries(body)) if (value === undefined) delete body[name];
  return body;
}

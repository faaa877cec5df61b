/**
 * `npm run bench`: the performance report of docs/benchmarks.md.
 *
 * On the PostgreSQL of DATABASE_URL (default 127.0.0.1:5432) it measures, in one run:
 *   1. pgbench's built-in simple-update TPS on the same server (the database's own limit);
 *   2. Kassa (rate limits off) under concurrent full payment lifecycles from a separate load process,
 *      with a webhook receiver — per-operation throughput and latency, lifecycles/s, writes/s, memory;
 *   3. webhook delivery lag at half of that peak rate;
 *   4. create-payment load against Kassa, against Stoplight Prism serving the published OpenAPI
 *      document (a stateless mock, what users run today) and against a bare node:http server (the
 *      machine's HTTP ceiling for that load);
 *   5. the same lifecycle load on the embedded PGlite store (no target, must run without errors).
 * Results go to bench/results/<timestamp>.json and docs/benchmarks.md.
 *
 * Flags: --duration S (default 20), --concurrency N (default 32), --soak S (memory soak, default 0),
 *        --skip-prism, --skip-pglite, --workers N (server processes, default 1), --render FILE (docs only).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { round } from './stats.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shared = join(root, '..', 'shared');
const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '32' },
    soak: { type: 'string', default: '0' },
    workers: { type: 'string', default: '1' },
    'skip-prism': { type: 'boolean', default: false },
    'skip-pglite': { type: 'boolean', default: false },
    /** Re-render docs/benchmarks.md from a results file instead of measuring. */
    render: { type: 'string' },
  },
});
const duration = Number(flags.duration);
const concurrency = Number(flags.concurrency);
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function freshDatabase(name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`drop database if exists ${name} with (force)`);
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not come up`);
}

/** Resident memory of a process and its children (the --workers processes), in MiB. */
function rssMiB(pid: number): number {
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    // pgrep exits 1 when the process has no children.
  }
  return [pid, ...children].reduce((sum, p) => {
    try {
      return sum + Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    } catch {
      return sum;
    }
  }, 0);
}

async function startKassa(env: Record<string, string>): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> {
  const port = await freePort();
  const args = [join(root, 'packages/server/src/main.ts'), 'start'];
  if (Number(flags.workers) > 1) args.push('--workers', flags.workers as string);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', KASSA_RATE_LIMITS: 'off', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health`);
  return {
    url,
    child,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface LoadResult {
  seconds: number;
  operations: Record<string, { count: number; perSecond: number; p50: number; p99: number; p999: number; errors: number }>;
  lifecyclesPerSecond: number;
  writesPerSecond: number;
  failures: string[];
  webhooks?: { received: number; drainMs?: number; lagMs: { p50: number; p99: number; p999: number } };
}

function runLoad(options: Record<string, unknown>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bench/load.ts'), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load exited ${code}`))));
  });
}

/** Samples a process's memory every second while `work` runs. */
async function withMemory<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ result: T; memory: { startMiB: number; peakMiB: number; endMiB: number; halfwayMiB: number; perMinuteMiB: number[] } }> {
  const samples: number[] = [rssMiB(pid)];
  const timer = setInterval(() => samples.push(rssMiB(pid)), 1000);
  try {
    const result = await work();
    samples.push(rssMiB(pid));
    return {
      result,
      memory: {
        startMiB: round(samples[0] ?? 0),
        peakMiB: round(Math.max(...samples)),
        endMiB: round(samples[samples.length - 1] ?? 0),
        // The first half is warm-up (V8 grows its heap to the load); a leak shows in the second.
        halfwayMiB: round(samples[Math.floor(samples.length / 2)] ?? 0),
        perMinuteMiB: samples.filter((_, i) => i % 60 === 0).map((mib) => round(mib)),
      },
    };
  } finally {
    clearInterval(timer);
  }
}

function pgbenchTps(): number {
  const url = adminUrl;
  execFileSync('pgbench', ['-i', '-q', '-s', '10', '--foreign-keys', url.replace(/\/[^/]*$/, '/kassa_pgbench')], { stdio: 'ignore' });
  const out = execFileSync(
    'pgbench',
    [
      '-b',
      'simple-update',
      '-c',
      String(Math.min(concurrency, 32)),
      '-j',
      '2',
      '-T',
      String(Math.max(10, Math.round(duration / 2))),
      url.replace(/\/[^/]*$/, '/kassa_pgbench'),
    ],
    { encoding: 'utf8' },
  );
  return Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? 0);
}

/** Create-payment load for half the run's duration; `tokenless` for targets without a token endpoint (Prism, bare). */
function createLoad(baseUrl: string, { tokenless = false } = {}): Promise<LoadResult> {
  return runLoad({
    mode: 'creates',
    baseUrl,
    concurrency,
    durationSeconds: Math.max(10, duration / 2),
    rate: 0,
    webhooks: false,
    tokenless,
  });
}

/** The same create load against bench/bareServer.ts: what one Node process answers when it does nothing else. */
async function bareCreates(): Promise<LoadResult> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'bench/bareServer.ts'), String(port)], { stdio: 'ignore' });
  try {
    await waitFor(`http://127.0.0.1:${port}/`);
    return await createLoad(`http://127.0.0.1:${port}`, { tokenless: true });
  } finally {
    child.kill('SIGTERM');
  }
}

async function prismCreates(): Promise<LoadResult | undefined> {
  const tools = join(root, 'bench/.tools');
  const prism = join(tools, 'node_modules/.bin/prism');
  if (!existsSync(prism)) {
    log('installing Stoplight Prism into bench/.tools (once)');
    mkdirSync(tools, { recursive: true });
    writeFileSync(join(tools, 'package.json'), '{"private":true}\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '@stoplight/prism-cli@5'], {
      cwd: tools,
      stdio: 'inherit',
    });
  }
  // The published document points its receipt schema at a remote URL no machine here reaches; use the local copy.
  const dir = mkdtempSync(join(tmpdir(), 'kassa-prism-'));
  cpSync(join(shared, 'openapi/order-management.v2.yml'), join(dir, 'order-management.v2.yml'));
  const spec = readFileSync(join(shared, 'openapi/epayment.v1.yml'), 'utf8').replace(
    /https:\/\/raw\.githubusercontent\.com[^'#]*swagger\.yaml/,
    './order-management.v2.yml',
  );
  writeFileSync(join(dir, 'epayment.v1.yml'), spec);
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [prism, 'mock', '-p', String(port), '-h', '127.0.0.1', '--verboseLevel', 'error', join(dir, 'epayment.v1.yml')],
    {
      stdio: 'ignore',
    },
  );
  try {
    await waitFor(`http://127.0.0.1:${port}/epayment/v1/payments/abcdefgh`, 60_000);
    return await createLoad(`http://127.0.0.1:${port}`, { tokenless: true });
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const machine = { cpus: availableParallelism(), memoryGiB: round(totalmem() / 2 ** 30, 1), node: process.version };
  log(`machine: ${JSON.stringify(machine)}`);

  log('pgbench simple-update');
  await freshDatabase('kassa_pgbench');
  const pgbench = pgbenchTps();
  log(`pgbench: ${pgbench} tps`);

  const databaseUrl = await freshDatabase('kassa_bench');
  const kassa = await startKassa({ DATABASE_URL: databaseUrl });
  const pid = kassa.child.pid as number;
  log(`peak lifecycle load: ${concurrency} concurrent for ${duration} s`);
  await runLoad({ mode: 'lifecycles', baseUrl: kassa.url, concurrency: 4, durationSeconds: 3, rate: 0, webhooks: false }); // warm-up
  const peak = await withMemory(pid, () =>
    runLoad({ mode: 'lifecycles', baseUrl: kassa.url, concurrency, durationSeconds: duration, rate: 0, webhooks: true }),
  );
  const halfRate = peak.result.lifecyclesPerSecond / 2;
  log(`half load for webhook lag: ${round(halfRate)} lifecycles/s`);
  const half = await runLoad({
    mode: 'lifecycles',
    baseUrl: kassa.url,
    concurrency,
    durationSeconds: duration,
    rate: halfRate,
    webhooks: true,
  });
  log('create-payment load against Kassa');
  const kassaCreates = await createLoad(kassa.url);
  // The references run right after Kassa's create load, not after the soak: this VM's speed drifts over
  // minutes (once 4× between two phases of one run), and a ratio is only fair between adjacent phases.
  const prism = flags['skip-prism'] ? undefined : await prismCreates();
  log('create-payment load against a bare node:http server');
  const bare = await bareCreates();
  let soak: { minutes: number; memory: Awaited<ReturnType<typeof withMemory>>['memory']; lifecyclesPerSecond: number } | undefined;
  if (Number(flags.soak) > 0) {
    log(`memory soak: ${flags.soak} s at half load`);
    const run = await withMemory(pid, () =>
      runLoad({ mode: 'lifecycles', baseUrl: kassa.url, concurrency, durationSeconds: Number(flags.soak), rate: halfRate, webhooks: true }),
    );
    soak = { minutes: round(Number(flags.soak) / 60), memory: run.memory, lifecyclesPerSecond: round(run.result.lifecyclesPerSecond) };
  }
  await kassa.stop();

  let pglite: LoadResult | undefined;
  if (!flags['skip-pglite']) {
    log('lifecycle load on the embedded PGlite store');
    const dataDir = mkdtempSync(join(tmpdir(), 'kassa-bench-pglite-'));
    const embedded = await startKassa({ DATABASE_URL: '', KASSA_DATA_DIR: dataDir });
    pglite = await runLoad({
      mode: 'lifecycles',
      baseUrl: embedded.url,
      concurrency: Math.min(concurrency, 16),
      durationSeconds: Math.max(10, duration / 2),
      rate: 0,
      webhooks: true,
    });
    await embedded.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const report = {
    date: new Date().toISOString(),
    command: `npm run bench -- --duration ${duration} --concurrency ${concurrency}${Number(flags.soak) > 0 ? ` --soak ${flags.soak}` : ''}`,
    machine,
    pgbenchSimpleUpdateTps: pgbench,
    peak: { ...peak.result, memory: peak.memory },
    halfLoad: half,
    creates: { kassa: kassaCreates, prism, bare },
    ratios: {
      writesPerSecondOverPgbenchTps: round(peak.result.writesPerSecond / pgbench),
      createThroughputOverPrism: prism ? round(kassaCreates.operations.create!.perSecond / prism.operations.create!.perSecond) : undefined,
      createP99OverPrismP99: prism ? round(kassaCreates.operations.create!.p99 / prism.operations.create!.p99) : undefined,
      createThroughputOverBare: round(kassaCreates.operations.create!.perSecond / bare.operations.create!.perSecond),
      prismThroughputOverBare: prism ? round(prism.operations.create!.perSecond / bare.operations.create!.perSecond) : undefined,
    },
    soak,
    pglite,
  };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const file = join(root, 'bench/results', `${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(root, 'docs/benchmarks.md'), renderMarkdown(report));
  process.stdout.write(`${JSON.stringify(report.ratios)}\nresults: ${file}\n`);
}

// biome-ignore lint/suspicious/noExplicitAny: the report object assembled in main(), rendered field by field
function verdicts(r: any): string {
  const lag = r.halfLoad.webhooks?.received ? r.halfLoad.webhooks.lagMs.p99 : undefined;
  const memory = r.soak?.memory ?? r.peak.memory;
  const lines: [string, boolean | undefined][] = [
    [`writes/s ≥ 0.5 × pgbench TPS: ${r.ratios.writesPerSecondOverPgbenchTps}`, r.ratios.writesPerSecondOverPgbenchTps >= 0.5],
    [
      `create throughput ≥ 3 × Prism's: ${r.ratios.createThroughputOverPrism ?? 'not run'}`,
      r.ratios.createThroughputOverPrism === undefined ? undefined : r.ratios.createThroughputOverPrism >= 3,
    ],
    [
      `create p99 below Prism's: ${r.ratios.createP99OverPrismP99 ?? 'not run'} × Prism's`,
      r.ratios.createP99OverPrismP99 === undefined ? undefined : r.ratios.createP99OverPrismP99 < 1,
    ],
    [`webhook lag p99 < 250 ms at half load: ${lag ?? 'no delivery'} ms`, lag !== undefined && lag < 250],
    [
      `server memory flat${r.soak ? ` over ${r.soak.minutes} min at half load` : ' (no soak run)'}: ${memory.startMiB} MiB at the start, ${memory.halfwayMiB ?? '?'} halfway, ${memory.endMiB} at the end (flat: under 5 % growth over the second half, after warm-up)`,
      r.soak && memory.halfwayMiB ? memory.endMiB - memory.halfwayMiB < 0.05 * memory.halfwayMiB : undefined,
    ],
  ];
  return lines.map(([text, met]) => `- ${met === undefined ? 'not measured' : met ? '**met**' : '**not met**'}: ${text}`).join('\n');
}

// biome-ignore lint/suspicious/noExplicitAny: the report object assembled in main(), rendered field by field
function renderMarkdown(r: any): string {
  const ops = (result: LoadResult) =>
    Object.entries(result.operations)
      .filter(([name]) => name !== 'lifecycle')
      .map(([name, o]) => `| ${name} | ${o.count} | ${o.perSecond} | ${o.p50} | ${o.p99} | ${o.p999} | ${o.errors} |`)
      .join('\n');
  const table = (result: LoadResult) =>
    `| operation | count | per second | p50 ms | p99 ms | p99.9 ms | errors |\n| --- | --- | --- | --- | --- | --- | --- |\n${ops(result)}`;
  return `# Benchmarks

Measured with \`${r.command}\` on ${r.date.slice(0, 10)} (${r.machine.cpus} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}),
with PostgreSQL on the same machine. A run writes its raw results to \`bench/results/<time>.json\` (git-ignored); this page is rendered from one.

## Method

\`npm run bench\` (bench/run.ts) runs, in one go and on one PostgreSQL server:

1. **pgbench** \`-b simple-update\` (its built-in write transaction) on a scale-10 database — the reference for what the
   database itself can do on this machine.
2. **Kassa** started as its own process against a fresh database, rate limits off, and a **load process** (bench/load.ts)
   running ${r.peak ? 'concurrent' : ''} full payment lifecycles — token → create → force approve → get → partial capture → capture →
   refund → events — as fast as the server answers, with a webhook receiver registered for created, authorized, captured
   and refunded events. "Writes" are create, approve, capture and refund calls (5 per lifecycle).
3. The same lifecycles at **half of that peak rate**, for webhook delivery lag (event timestamp → receiver got it).
4. **Create-payment only** load against Kassa, then against **Stoplight Prism** mocking \`shared/openapi/epayment.v1.yml\`
   (Prism at its least verbose log level, to give it its best case), then against a **bare \`node:http\`** server
   (bench/bareServer.ts: parses the body, answers 201, stores nothing): the most this machine answers to this load
   process, the reference both create figures are read against.
5. The lifecycle load on the **embedded PGlite** store (no target; it must run without errors).

## Status

${verdicts(r)}

What the figures show, and where the time goes (\`node --cpu-prof\` on the server, \`top\` and \`pg_stat_statements\`
during the load; the A/B figures below come from 10–20 s runs of bench/load.ts against one server, before and
after a change, on this machine):

- **What a lifecycle costs, and why writes ≥ 0.5 × pgbench is out of reach on this machine.** CPU time per
  lifecycle with its five webhook deliveries, read from \`/proc\` over 10 s peak runs of bench/load.ts against one
  server (the load and the outbox drain after it): the server 2.7–4.0 ms, PostgreSQL's backends 3.9–5.6 ms on
  2026-11-22 (4.5–9.6 and 5.0–9.9 ms in earlier runs), the load process 2.0–3.4 ms (the spread is the machine's
  speed from run to run), with the two cores 80–85 % busy
  during the load (\`vmstat\`). A pgbench
  simple-update transaction costs the machine's cores ÷ its TPS: ${round((r.machine.cpus * 1000) / r.pgbenchSimpleUpdateTps, 2)} ms in this run. Half of pgbench's TPS in
  writes (five per lifecycle) would need a whole lifecycle — nine HTTP requests, five webhook deliveries, about
  twenty database round trips and the load process itself — in ${round((r.machine.cpus * 10_000) / r.pgbenchSimpleUpdateTps, 1)} ms of machine CPU: less than
  PostgreSQL alone spends on it now. \`node --cpu-prof\` charges a quarter to a third of the server's time to socket
  writes (\`writev\` under node-postgres), but the kernel's accounting disagrees: in a 10 s peak run on 2026-11-22
  (155 lifecycles/s) the server spent 14 % of its CPU time in the kernel, all system calls together (\`/proc\`:
  607 user and 97 system ticks), and \`perf record\` of a create-only run spread the rest over V8, JIT-compiled code and malloc with no
  symbol above 3.2 %. The V8 profiler books samples to the native call on the stack; what costs is ordinary
  JavaScript — fastify, node-postgres, JSON, request logging, crypto — spread thin, with no single item to remove
  for a large gain. Sending fewer, larger writes (below) paid off by saving PostgreSQL round trips, not syscalls.
- **Creates against the machine's HTTP ceiling.** The bare \`node:http\` server answers
  ${r.creates.bare?.operations.create.perSecond ?? '?'} creates/s to the same load process; Prism reaches ${r.ratios.prismThroughputOverBare ?? '?'} of that and Kassa
  ${r.ratios.createThroughputOverBare ?? '?'}. Three times Prism would be ${r.ratios.prismThroughputOverBare ? round(3 * r.ratios.prismThroughputOverBare) : '?'} of a server that stores nothing. A create
  that stores a payment, its CREATED event, its idempotency record and its request-log row costs about 0.10–0.12 ms
  of server CPU and 0.13–0.16 ms of PostgreSQL's (\`/proc\`, 8 s create-only runs on 2026-11-22), plus the load
  process's share. Until then PostgreSQL's part was 0.27–0.36 ms: the shared create statement asked for unused
  idempotency keys with \`NOT EXISTS\`, and because the planner takes \`jsonb_to_recordset\`'s input for 100 rows
  whatever the batch holds, it chose a hash anti join over a sequential scan of every stored key until the table
  held tens of thousands of them — each batch read the whole table (\`pg_stat_user_tables\`: 2 323 sequential scans
  reading 23.7 million rows in 8 s of create load; \`perf\`: hashing and visibility checks on top of PostgreSQL's
  profile). Asked as a scalar subquery per create, it probes the key's index at every size
  (test/createPayment.plan.test.ts checks the plan at 2 000 and 20 000 keys): two runs before and two after,
  3 140 / 3 013 → 4 504 / 5 308 creates/s, PostgreSQL's CPU per create 0.27 / 0.30 → 0.15 / 0.13 ms. Latency
  follows throughput: 32 clients always waiting make the mean latency 32 ÷ creates/s, and the p99 sits at 3–4 ×
  that mean for Kassa and about 3 × for Prism, so a p99 below Prism's needs about Prism's throughput first. The
  server's event loop is not where the tail comes from (\`monitorEventLoopDelay\` during create load: p99 5–7 ms,
  garbage collection 1.5 % of the time, larger young generations — \`--max-semi-space-size\` 32 and 64 — changed
  neither figure). Group commit: PostgreSQL's part is mostly per statement, not per row, and capping batches at 8
  or 4 creates doubled and tripled PostgreSQL's CPU per create (A/B); with 64 clients instead of 32 batches grow
  and creates/s rise (1 925–2 085 vs 1 324–1 356 before the change above), but the comparison with Prism stays at
  one concurrency for both. Holding batches back to one or two statements in flight, for larger batches at 32
  clients, did not help (1 105 and 1 628 vs 1 677 creates/s, before the change above).
- **Round trips.** The statements per lifecycle went from 66 to 26.6 (\`pg_stat_statements\` calls ÷
  lifecycles, with every BEGIN, COMMIT and \`set local\` counted although they travel with other statements, and
  the outbox's claims, repairs and request-log batches), about 13 round trips: a transition (payment update,
  event, webhook outbox, idempotent outcome) is one statement, and so are the row lock with the idempotency
  claim and a delivered webhook with its attempt record and the claim of the payment's next event. A plain
  create is one statement without a transaction around it (atomic on its own; a concurrent claim of the same
  key fails it whole and it takes the general path), and every other transaction sends its BEGIN together with
  its first statement and, for a modification or an approval, its COMMIT together with its last (node-postgres
  pipeline mode, the connection's writes of one tick in one socket write): a create is one round trip instead
  of three, a capture two instead of four. A token request reads its key set from the same few-seconds cache
  as every API call (two statements fewer per lifecycle); together, A/B over four alternating 10 s peak runs
  each: 97 → 106 lifecycles/s (means; single runs on this machine vary by ±15 %). GET events reads the payment
  and its log in one statement, and force approve reads the test user and the create request's key in one
  round trip. Creates that arrive in the same turn of the event loop share that statement (a group commit,
  store/groupCommit.ts): one round trip, commit and WAL flush for all of them (A/B on create-only load:
  852 → 1154 and 855 → 1205 creates/s, p99 74 → 63 and 85 → 56 ms).
- **Webhooks** keep up: a claim reads only due queue heads (migration 008), a finished delivery claims its
  payment's next event in the same statement, one receiver may have a quarter of the process's attempts in
  flight, and connections to receivers are kept alive (A/B: 52 → 59 lifecycles/s, peak-phase lag p50
  2964 → 1214 ms). That quarter was 16 of 64 until 2026-11-22 and is now 32 of 128: with 32 lifecycles in
  progress at once, 16 left half the payments' queues waiting and a backlog of seconds built up at peak;
  with 32 the peak-phase lag was p50 45 ms and p99 143–166 ms instead of 1 520–1 727 and 2 546–2 810 ms
  (two alternating 10 s runs each), for 5 % fewer lifecycles/s — deliveries now cost CPU during the load
  instead of after it. Deliveries that
  succeed in the same turn are recorded by one statement (the same group commit as creates: at peak 5.4
  deliveries per statement), and a registration's secret is opened once rather than for every delivery (A/B,
  four alternating 10 s peak runs each: 67 → 86 lifecycles/s, +29 %). A payment's events still go out one
  after another (order per payment, §4.5), so under saturation the lag is the queue.
- **Half load is a steady rate.** Until this run the load process took a lifecycle's start slot after waiting
  for it, so every idle worker woke for the same slot and "half load" ran as bursts of 32 lifecycles at once;
  the half-load lag (p99 411 ms in the previous report) measured those bursts. Slots are now taken before the
  wait (A/B at the same rate: p99 378 → 69 ms). On a slow day the margin is smaller and a stall of the
  machine shows: a run on 2026-11-21 at 23:56 measured p99 675 ms at half load (p50 19), the run after it
  29 ms; alternating 20 s runs at 40 lifecycles/s of the code before
  and after that day's changes gave p99 35–130 ms on both sides.
- **Memory**: the soak's resident size follows V8's heap reservations (it grows in steps, and falls back
  when V8 returns memory). The live heap does not grow: with a forced GC every 30 s through a 5-minute half-load run (\`node --expose-gc\`,
  \`process.memoryUsage()\`), it stayed between 25 and 31 MiB and fell back to 25, while the reserved heap
  stayed near 160 MiB and the resident size at 278–281 MiB.
- Next steps, measured against these figures: a Unix socket to a local PostgreSQL (A/B: +7 % creates/s), the
  dashboard's five payment indexes folded into fewer (A/B: −10 % statement time, no throughput change
  measurable), the group commit for modifications too (they lock the payment row, so only writes to different
  payments could share a statement), a larger default pool (32 connections instead of 16: peak-phase webhook
  lag p50 641 → 100 ms in single runs, lifecycles within noise), and \`--workers\` on a machine with more cores.

## Results

| figure | value | target |
| --- | --- | --- |
| pgbench simple-update TPS | ${r.pgbenchSimpleUpdateTps} | reference |
| Kassa write operations per second | ${round(r.peak.writesPerSecond)} | |
| writes/s ÷ pgbench TPS | **${r.ratios.writesPerSecondOverPgbenchTps}** | ≥ 0.5 |
| lifecycles per second (peak) | ${round(r.peak.lifecyclesPerSecond)} | |
| create throughput ÷ Prism's | **${r.ratios.createThroughputOverPrism ?? 'not run'}** | ≥ 3 |
| create p99 ÷ Prism's p99 | **${r.ratios.createP99OverPrismP99 ?? 'not run'}** | < 1 |
| creates/s of Kassa / Prism / bare node:http, and each ÷ bare | ${r.creates.kassa.operations.create.perSecond} / ${r.creates.prism?.operations.create.perSecond ?? 'not run'} / ${r.creates.bare?.operations.create.perSecond ?? 'not run'}; ${r.ratios.createThroughputOverBare ?? '?'} / ${r.ratios.prismThroughputOverBare ?? '?'} / 1 | |
| webhook delivery lag at half load, p50 / p99 (ms) | ${r.halfLoad.webhooks?.received ? `${r.halfLoad.webhooks.lagMs.p50} / **${r.halfLoad.webhooks.lagMs.p99}**` : '**no delivery within the run**'} (${r.halfLoad.webhooks?.received ?? 0} received) | p99 < 250 |
| webhooks of the peak phase, lag p50 / p99 (ms), outbox drained after the load stopped | ${r.peak.webhooks?.received ?? 0}: ${r.peak.webhooks?.lagMs.p50} / ${r.peak.webhooks?.lagMs.p99}, ${r.peak.webhooks?.drainMs ?? '?'} ms | |
| server memory during peak load, start / peak / end (MiB) | ${r.peak.memory.startMiB} / ${r.peak.memory.peakMiB} / ${r.peak.memory.endMiB} | flat |
${r.soak ? `| memory soak, ${r.soak.minutes} min at half load${r.soakFrom ? ` (run ${r.soakFrom}, same code)` : ''}: start / peak / end (MiB); each minute | ${r.soak.memory.startMiB} / ${r.soak.memory.peakMiB} / ${r.soak.memory.endMiB}; ${(r.soak.memory.perMinuteMiB ?? []).join(', ')} | flat |\n` : ''}
### Peak lifecycle load on PostgreSQL

${table(r.peak)}

### Create-payment load

Kassa:

${table(r.creates.kassa)}
${r.creates.prism ? `\nPrism:\n\n${table(r.creates.prism)}\n` : ''}${r.creates.bare ? `\nBare node:http:\n\n${table(r.creates.bare)}\n` : ''}
${r.pglite ? `### Embedded PGlite store\n\n${round(r.pglite.lifecyclesPerSecond)} lifecycles/s, webhook lag p99 ${r.pglite.webhooks?.lagMs.p99} ms, failures: ${r.pglite.failures.length}.\n\n${table(r.pglite)}\n` : ''}`;
}

if (flags.render) writeFileSync(join(root, 'docs/benchmarks.md'), renderMarkdown(JSON.parse(readFileSync(flags.render, 'utf8'))));
else await main();

// Steady client load for scripts/container-test.sh: `node scripts/container-load.mjs <url> <token>`.
// Workers send GET /api/auth/me back to back; like a load balancer, the client stops sending
// as soon as readiness answers anything but 200 or a response says `Connection: close`.
// Every request sent must succeed: prints a JSON summary, exits 1 on any failure.
const [base, token] = process.argv.slice(2);
const stats = { ok: 0, failed: 0, errors: [] };
let draining = false;
const started = Date.now();

async function worker() {
  while (!draining) {
    try {
      const res = await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status === 200) stats.ok += 1;
      else {
        stats.failed += 1;
        stats.errors.push(`HTTP ${res.status}`);
      }
      if (res.headers.get('connection') === 'close') draining = true;
    } catch (err) {
      stats.failed += 1;
      stats.errors.push(String(err.cause?.code ?? err.message));
    }
  }
}

async function balancer() {
  while (!draining) {
    const res = await fetch(`${base}/api/health/ready`).catch(() => null);
    if (res?.status !== 200) draining = true;
    await res?.arrayBuffer();
    await new Promise((r) => setTimeout(r, 50));
  }
}

await Promise.all([balancer(), ...Array.from({ length: 8 }, worker)]);
stats.errors = [...new Set(stats.errors)].slice(0, 10);
console.log(JSON.stringify({ ...stats, seconds: (Date.now() - started) / 1000 }));
process.exit(stats.failed === 0 && stats.ok > 0 ? 0 : 1);

// `k3sctl doctor` as text: one line per check (status, what was found), the details of those that are
// not ok indented under them.

/** What the report shows of `doctor`'s result (the workflow's DoctorResult has this shape and more). */
export interface DoctorReportView {
  region: { name: string; source: string };
  profile?: { name: string; source: string };
  endpoint: { url?: string; source: string };
  cluster: { name: string; vpcId: string; groups: { name: string; count: number; instanceType: string; spot: boolean }[] };
  checks: { check: string; status: string; summary: string; details: string[] }[];
  /** No check failed. */
  ok: boolean;
}

const MARK: Record<string, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', 'not-checked': 'not checked' };

export function renderDoctorReport(r: DoctorReportView): string {
  const groups = r.cluster.groups.map((g) => `${g.name} ${g.count}x ${g.instanceType}${g.spot ? ' (spot)' : ''}`).join(', ');
  const lines = [
    `k3sctl doctor: cluster ${r.cluster.name} (${groups}) in ${r.cluster.vpcId}, ${r.region.name}`,
    `  ${'region'.padEnd(12)} ${r.region.name} (from ${r.region.source})`,
    `  ${'profile'.padEnd(12)} ${r.profile ? `${r.profile.name} (from ${r.profile.source})` : '(none named: the SDK\'s default credential chain)'}`,
    `  ${'endpoint'.padEnd(12)} ${r.endpoint.url ? `${r.endpoint.url} (from ${r.endpoint.source})` : r.endpoint.source}`,
  ];
  for (const c of r.checks) {
    const mark = MARK[c.status] ?? c.status;
    const summary = c.status === 'not-checked' ? c.summary.replace(/^not checked: /, '') : c.summary;
    lines.push(`  ${c.check.padEnd(12)} ${mark.padEnd(11)} ${summary}`);
    if (c.status !== 'ok' || c.check === 'quota') for (const d of c.details) lines.push(`  ${''.padEnd(12)} ${''.padEnd(11)} - ${d}`);
  }
  lines.push(r.ok ? 'no check failed' : `${r.checks.filter((c) => c.status === 'fail').length} check(s) failed`);
  return lines.join('\n');
}

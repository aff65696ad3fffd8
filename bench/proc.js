'use strict';
// bench/proc: CPU time of processes and of the machine from /proc, shared by
// the load generators (chatload, beatload).

const fs = require('node:fs');

const CLK_TCK = 100; // USER_HZ on Linux: /proc/<pid>/stat times are in 1/100 s

/** utime+stime of a process in seconds, or null. */
function procCpu(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** CPU seconds of a process and all its direct children (PostgreSQL's backends), or null. */
function treeCpu(rootPid) {
  if (!rootPid) return null;
  let total = procCpu(rootPid);
  if (total === null) return null;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === rootPid) total += (Number(f[11]) + Number(f[12])) / CLK_TCK;
    } catch {
      /* gone */
    }
  }
  return total;
}

/** Jiffies of the whole machine from /proc/stat: { busy, idle, steal, total }, or null. */
function machineCpu() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
    const busy = user + nice + system + irq + softirq;
    return { busy, idle: idle + iowait, steal: steal || 0, total: busy + idle + iowait + (steal || 0) };
  } catch {
    return null;
  }
}

module.exports = { CLK_TCK, procCpu, treeCpu, machineCpu };

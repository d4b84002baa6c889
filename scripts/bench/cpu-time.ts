/**
 * CPU time of process trees, read from Linux's /proc (benchmarks only): where a multi-process run's
 * cores went. `undefined` where /proc is missing (not Linux).
 */
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime of the process itself, seconds. */
  cpuSeconds: number;
}

/** Parses /proc/<pid>/stat (the command name, field 2, may hold spaces and parentheses). */
function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // rest[0] is field 3 (state); ppid is field 4, utime field 14, stime field 15
    return { ppid: Number(rest[1]), cpuSeconds: (Number(rest[11]) + Number(rest[12])) / USER_HZ };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) used so far by each root pid and its live descendants (a child that has
 * already exited and been reaped is not counted: sample while the processes run).
 */
export function processTreeCpuSeconds(roots: readonly number[]): Map<number, number> | undefined {
  let pids: number[];
  try {
    pids = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return undefined;
  }
  const stats = new Map<number, ProcStat>();
  for (const pid of pids) {
    const s = readStat(pid);
    if (s !== undefined) stats.set(pid, s);
  }
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const out = new Map<number, number>();
  for (const root of roots) {
    let total = 0;
    const todo = [root];
    while (todo.length > 0) {
      const pid = todo.pop() as number;
      total += stats.get(pid)?.cpuSeconds ?? 0;
      todo.push(...(children.get(pid) ?? []));
    }
    out.set(root, total);
  }
  return out;
}

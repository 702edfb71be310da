//! Who used the CPU during a measurement window, read from Linux's /proc.
//!
//! Every figure is CPU time over wall-clock time, in percent of one core (top's
//! convention: 100 = one core busy, 200 = two cores), except `machine_busy_pct`,
//! a share of all cores. The kernel counts CPU time in clock ticks, whose rate is
//! read from the process's auxiliary vector (`AT_CLKTCK`), not assumed. A watched
//! process counts with all its threads and its whole process tree (PostgreSQL's
//! backends are children of the postmaster), including children it already reaped.
//!
//! Everything comes from the per-process counters, which the kernel keeps from
//! precise run times. The machine-wide busy/idle ticks of /proc/stat are not used:
//! on the virtual machine this was written on they drift from wall-clock time by
//! ±15 % under many short bursts (a check every millisecond). Only its steal
//! counter (time the hypervisor gave to another guest) is read.
//! Elsewhere than Linux the figures are simply absent.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

/// A process tree to account, e.g. `server=1234`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    /// Name used in the report.
    pub name: String,
    /// Root process id.
    pub pid: u32,
}

/// Parses `NAME=PID`.
///
/// # Errors
/// No `=`, an empty name, or a PID that is not a number.
pub fn parse_watch(text: &str) -> Result<Watch, String> {
    let (name, pid) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected NAME=PID"))?;
    if name.trim().is_empty() {
        return Err(format!("`{text}`: empty name"));
    }
    let pid = pid
        .trim()
        .parse()
        .map_err(|_| format!("`{text}`: `{pid}` is not a process id"))?;
    Ok(Watch {
        name: name.trim().to_string(),
        pid,
    })
}

/// CPU use over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuUsage {
    /// CPUs of the machine.
    pub cpus: usize,
    /// Share of all cores that processes used (watched and other), %.
    pub machine_busy_pct: f64,
    /// Per watched process tree (and `loadgen` itself), % of one core.
    pub processes: BTreeMap<String, f64>,
    /// Every other process and kernel thread (of those alive at the end of the
    /// window), % of one core: a quiet machine keeps this near 0.
    #[serde(default)]
    pub other_pct: f64,
    /// CPU time the hypervisor gave to other guests (steal), % of one core.
    #[serde(default)]
    pub steal_pct: f64,
}

/// Counters at one instant.
#[derive(Debug, Clone)]
pub struct Snapshot {
    at: Instant,
    ticks_per_s: f64,
    cpus: usize,
    steal: u64,
    /// Watched trees (and `loadgen`), with reaped children.
    trees: BTreeMap<String, u64>,
    /// Every process outside the trees: own ticks only (reaped children would
    /// bring their whole lifetime into the window).
    others: HashMap<u32, u64>,
}

/// (steal ticks, CPUs) from the text of /proc/stat.
fn parse_proc_stat(text: &str) -> Option<(u64, usize)> {
    let first = text.lines().next()?;
    let mut fields = first.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    // user nice system idle iowait irq softirq steal …
    let steal = fields.nth(7).map_or(Some(0), |f| f.parse().ok())?;
    let cpus = text
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    Some((steal, cpus.max(1)))
}

/// `AT_CLKTCK` (clock ticks per second) from the bytes of /proc/self/auxv: pairs
/// of native-endian machine words (type, value), ending with type 0.
fn parse_auxv_clktck(bytes: &[u8]) -> Option<u64> {
    const AT_CLKTCK: u64 = 17;
    let word = std::mem::size_of::<usize>();
    let read = |chunk: &[u8]| -> Option<u64> {
        let mut buf = [0u8; 8];
        if word == 8 {
            buf.copy_from_slice(chunk);
            Some(u64::from_ne_bytes(buf))
        } else {
            let mut b4 = [0u8; 4];
            b4.copy_from_slice(chunk);
            Some(u64::from(u32::from_ne_bytes(b4)))
        }
    };
    for pair in bytes.chunks_exact(2 * word) {
        let (kind, value) = (read(&pair[..word])?, read(&pair[word..])?);
        match kind {
            0 => return None,
            AT_CLKTCK => return Some(value).filter(|v| *v > 0),
            _ => {}
        }
    }
    None
}

/// A process's counters, in ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Proc {
    ppid: u32,
    /// utime + stime, all threads.
    own: u64,
    /// cutime + cstime: children it reaped.
    reaped: u64,
}

/// A process's counters from the text of /proc/PID/stat. The command name may
/// hold spaces and parentheses, so fields are counted from the last `)`.
fn parse_pid_stat(text: &str) -> Option<Proc> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After `)`: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    let ppid = f.get(1)?.parse().ok()?;
    let t: Vec<u64> = f
        .get(11..15)?
        .iter()
        .map(|x| x.parse::<i64>().ok().map(|t| t.max(0) as u64))
        .collect::<Option<_>>()?;
    Some(Proc {
        ppid,
        own: t[0] + t[1],
        reaped: t[2] + t[3],
    })
}

/// The pids of `root` and all its descendants.
fn tree(procs: &HashMap<u32, Proc>, root: u32) -> HashSet<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&pid, p) in procs {
        children.entry(p.ppid).or_default().push(pid);
    }
    let mut members = HashSet::new();
    if !procs.contains_key(&root) {
        return members;
    }
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        if members.insert(p) {
            stack.extend(children.get(&p).map(Vec::as_slice).unwrap_or_default());
        }
    }
    members
}

/// The ticks of a tree: every member's own and its reaped children's (a reaped
/// child no longer appears itself, so nothing counts twice).
fn tree_ticks(procs: &HashMap<u32, Proc>, members: &HashSet<u32>) -> u64 {
    members
        .iter()
        .filter_map(|p| procs.get(p))
        .map(|p| p.own + p.reaped)
        .sum()
}

/// Every process's counters; processes that vanish meanwhile are skipped.
fn all_processes() -> HashMap<u32, Proc> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(v) = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .as_deref()
            .and_then(parse_pid_stat)
        {
            out.insert(pid, v);
        }
    }
    out
}

/// Reads the counters now; `None` where /proc is not available.
pub fn snapshot(watches: &[Watch]) -> Option<Snapshot> {
    let ticks_per_s = parse_auxv_clktck(&std::fs::read("/proc/self/auxv").ok()?)? as f64;
    let (steal, cpus) = parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let at = Instant::now();
    let procs = all_processes();
    let named = watches
        .iter()
        .map(|w| (w.name.clone(), w.pid))
        .chain(std::iter::once(("loadgen".to_string(), std::process::id())));
    let mut trees = BTreeMap::new();
    let mut watched = HashSet::new();
    for (name, pid) in named {
        let members = tree(&procs, pid);
        if !members.is_empty() {
            trees.insert(name, tree_ticks(&procs, &members));
            watched.extend(members);
        }
    }
    let others = procs
        .iter()
        .filter(|(pid, _)| !watched.contains(pid))
        .map(|(pid, p)| (*pid, p.own))
        .collect();
    Some(Snapshot {
        at,
        ticks_per_s,
        cpus,
        steal,
        trees,
        others,
    })
}

/// The CPU use between two snapshots; `None` when no time passed.
pub fn usage(before: &Snapshot, after: &Snapshot) -> Option<CpuUsage> {
    let seconds = after.at.saturating_duration_since(before.at).as_secs_f64();
    // Ticks one core has in the window; every figure is a share of it.
    let core = after.ticks_per_s * seconds;
    if core <= 0.0 {
        return None;
    }
    let pct = |a: u64, b: u64| a.saturating_sub(b) as f64 / core * 100.0;
    let processes: BTreeMap<String, f64> = after
        .trees
        .iter()
        .filter_map(|(name, t)| Some((name.clone(), pct(*t, *before.trees.get(name)?))))
        .collect();
    // A process born in the window counts whole.
    let other_pct: f64 = after
        .others
        .iter()
        .map(|(pid, t)| pct(*t, before.others.get(pid).copied().unwrap_or(0)))
        .sum();
    let busy = processes.values().sum::<f64>() + other_pct;
    Some(CpuUsage {
        cpus: after.cpus,
        machine_busy_pct: (busy / after.cpus as f64).clamp(0.0, 100.0),
        processes,
        other_pct,
        steal_pct: pct(after.steal, before.steal),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn watches_parse() {
        assert_eq!(
            parse_watch("server=42").unwrap(),
            Watch {
                name: "server".into(),
                pid: 42
            }
        );
        assert!(parse_watch("server").is_err());
        assert!(parse_watch("=42").is_err());
        assert!(parse_watch("pg=x").is_err());
    }

    #[test]
    fn proc_stat_parses() {
        let text = "cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 50 2 25 400 10 0 1 1 0 0\ncpu1 50 3 25 400 10 1 1 2 0 0\nintr 1\n";
        assert_eq!(parse_proc_stat(text), Some((3, 2)));
        assert_eq!(
            parse_proc_stat("cpu  1 2 3 4\ncpu0 1 2 3 4\n"),
            Some((0, 1))
        );
        assert_eq!(parse_proc_stat("intr 1\n"), None);
    }

    #[test]
    fn clock_tick_rate_comes_from_auxv() {
        let words: Vec<usize> = vec![6, 4096, 17, 100, 0, 0];
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
        assert_eq!(parse_auxv_clktck(&bytes), Some(100));
        let none: Vec<u8> = [6usize, 4096, 0, 0]
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .collect();
        assert_eq!(parse_auxv_clktck(&none), None);
        // The real one, on Linux.
        if let Ok(bytes) = std::fs::read("/proc/self/auxv") {
            assert!(parse_auxv_clktck(&bytes).is_some_and(|hz| hz >= 100));
        }
    }

    #[test]
    fn pid_stat_parses_names_with_parentheses() {
        let text = "77 (postgres: a (b) c) S 12 77 77 0 -1 4194560 1 0 0 0 30 7 2 1 20 0 1 0 5 0 0";
        assert_eq!(
            parse_pid_stat(text),
            Some(Proc {
                ppid: 12,
                own: 37,
                reaped: 3
            })
        );
        assert_eq!(parse_pid_stat("77 (x) S"), None);
    }

    #[test]
    fn trees_include_descendants_only() {
        let p = |ppid, own, reaped| Proc { ppid, own, reaped };
        let procs: HashMap<u32, Proc> = [
            (10, p(1, 5, 2)),
            (11, p(10, 7, 0)),
            (12, p(11, 1, 0)),
            (20, p(1, 100, 0)),
        ]
        .into_iter()
        .collect();
        let members = tree(&procs, 10);
        assert_eq!(members, [10, 11, 12].into_iter().collect());
        assert_eq!(tree_ticks(&procs, &members), 15);
        assert_eq!(tree_ticks(&procs, &tree(&procs, 20)), 100);
        assert!(tree(&procs, 99).is_empty());
    }

    #[test]
    fn usage_is_top_style_over_wall_time() {
        let t0 = Instant::now();
        let before = Snapshot {
            at: t0,
            ticks_per_s: 100.0,
            cpus: 2,
            steal: 0,
            trees: [("server".to_string(), 10)].into_iter().collect(),
            others: [(5, 100), (6, 0)].into_iter().collect(),
        };
        // One second: the server used a core, process 5 a fifth, process 7 (new) a
        // tenth; process 6 ended; 4 ticks stolen.
        let after = Snapshot {
            at: t0 + Duration::from_secs(1),
            ticks_per_s: 100.0,
            cpus: 2,
            steal: 4,
            trees: [("server".to_string(), 110)].into_iter().collect(),
            others: [(5, 120), (7, 10)].into_iter().collect(),
        };
        let u = usage(&before, &after).unwrap();
        assert!((u.processes["server"] - 100.0).abs() < 1e-9, "{u:?}");
        assert!((u.other_pct - 30.0).abs() < 1e-9, "{u:?}");
        assert!((u.steal_pct - 4.0).abs() < 1e-9, "{u:?}");
        assert!((u.machine_busy_pct - 65.0).abs() < 1e-9, "{u:?}");
        assert!(usage(&after, &after).is_none());
    }
}

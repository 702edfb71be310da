//! The JSON line each run prints, and the table that sums up repeated runs.

use crate::stats::{fmt_figure, Spread};
use crate::{check, copy, events, throughput};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One run's result: what `loadgen events` / `loadgen check` print as one line,
/// `{"label": …, "kind": "events" | "check", …the report's fields}`. Read back with
/// [`Line::parse`].
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// Scenario name given with `--label`; runs with the same label are aggregated.
    pub label: String,
    /// The scenario's figures.
    #[serde(flatten)]
    pub result: Outcome,
}

/// The figures of either scenario.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// `POST /api/v1/events` throughput.
    Events(events::Report),
    /// `POST /api/v1/check` latency at a fixed rate.
    Check(check::Report),
    /// One endpoint's requests/s, closed loop.
    Throughput(throughput::Report),
    /// A raw COPY into `usage_events`.
    Copy(copy::Report),
}

/// The label and kind of a line, read before its report.
#[derive(Deserialize)]
struct Head {
    label: String,
    kind: Kind,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Events,
    Check,
    Throughput,
    Copy,
}

impl Line {
    /// Reads one printed line back. The report is read straight from the text, in
    /// a second pass: serde's buffering for `flatten` and internally tagged enums
    /// cannot read numbers when serde_json's `arbitrary_precision` is on, which the
    /// workspace's test build turns on for the domain crate's decimals.
    ///
    /// Errors: not JSON, an unknown `kind`, or a report field missing.
    pub fn parse(text: &str) -> serde_json::Result<Line> {
        let head: Head = serde_json::from_str(text)?;
        let result = match head.kind {
            Kind::Events => Outcome::Events(serde_json::from_str(text)?),
            Kind::Check => Outcome::Check(serde_json::from_str(text)?),
            Kind::Throughput => Outcome::Throughput(serde_json::from_str(text)?),
            Kind::Copy => Outcome::Copy(serde_json::from_str(text)?),
        };
        Ok(Line {
            label: head.label,
            result,
        })
    }

    /// Failed requests, warm-up included.
    pub fn errors(&self) -> u64 {
        match &self.result {
            Outcome::Events(r) => r.errors + r.warmup_errors,
            Outcome::Check(r) => r.errors + r.warmup_errors,
            Outcome::Throughput(r) => r.errors + r.warmup_errors,
            Outcome::Copy(_) => 0,
        }
    }

    /// Answers that succeeded but are not what a healthy run gives (duplicates,
    /// refusals).
    pub fn anomalies(&self) -> u64 {
        match &self.result {
            Outcome::Events(r) => r.duplicates,
            Outcome::Check(r) => r.duplicates + r.not_allowed,
            Outcome::Throughput(_) | Outcome::Copy(_) => 0,
        }
    }

    /// The human summary of this run.
    pub fn human(&self) -> String {
        let cpu = self.cpu_text();
        let alarm = match (self.errors(), self.anomalies()) {
            (0, 0) => String::new(),
            (e, a) => format!("!!! {e} ERRORS, {a} ANOMALIES !!! "),
        };
        let text = match &self.result {
            Outcome::Events(r) => format!(
                "{}: {} events/s accepted ({} req/s × {} events, {} in flight, {:.0} s); request latency p50 {} ms, p99 {} ms; {} errors, {} duplicates{cpu}",
                self.label,
                fmt_figure(r.events_per_s),
                fmt_figure(r.requests_per_s),
                r.batch,
                r.concurrency,
                r.duration_s,
                fmt_figure(r.latency_ms.p50),
                fmt_figure(r.latency_ms.p99),
                r.errors + r.warmup_errors,
                r.duplicates
            ),
            Outcome::Check(r) => format!(
                "{}: at {} req/s (achieved {}) latency p50 {} / p90 {} / p99 {} / p99.9 {} / max {} ms (send lag p99 {} ms); {} errors{cpu}",
                self.label,
                fmt_figure(r.rate),
                fmt_figure(r.achieved_rate),
                fmt_figure(r.latency_ms.p50),
                fmt_figure(r.latency_ms.p90),
                fmt_figure(r.latency_ms.p99),
                fmt_figure(r.latency_ms.p99_9),
                fmt_figure(r.latency_ms.max),
                fmt_figure(r.send_lag_ms.p99),
                r.errors + r.warmup_errors
            ),
            Outcome::Throughput(r) => format!(
                "{}: {} req/s ({}, {} in flight, {:.0} s); latency p50 {} ms, p99 {} ms; {} errors{cpu}",
                self.label,
                fmt_figure(r.requests_per_s),
                r.request,
                r.concurrency,
                r.duration_s,
                fmt_figure(r.latency_ms.p50),
                fmt_figure(r.latency_ms.p99),
                r.errors + r.warmup_errors
            ),
            Outcome::Copy(r) => format!(
                "{}: {} rows/s ({} rows in {:.2} s)",
                self.label,
                fmt_figure(r.rows_per_s),
                r.rows,
                r.seconds
            ),
        };
        format!("{alarm}{text}")
    }

    fn cpu(&self) -> Option<&crate::cpu::CpuUsage> {
        match &self.result {
            Outcome::Events(r) => r.cpu.as_ref(),
            Outcome::Check(r) => r.cpu.as_ref(),
            Outcome::Throughput(r) => r.cpu.as_ref(),
            Outcome::Copy(_) => None,
        }
    }

    fn cpu_text(&self) -> String {
        let Some(c) = self.cpu() else {
            return String::new();
        };
        let procs: Vec<String> = c
            .processes
            .iter()
            .map(|(k, v)| format!("{k} {v:.0}%"))
            .collect();
        format!(
            "; CPU (100% = one core): {}, other processes {:.0}%, steal {:.0}%; machine {:.0}% busy",
            procs.join(", "),
            c.other_pct,
            c.steal_pct,
            c.machine_busy_pct
        )
    }

    /// The figures the summary table shows, as (name, value).
    fn figures(&self) -> Vec<(&'static str, f64)> {
        match &self.result {
            Outcome::Events(r) => vec![
                ("accepted events/s", r.events_per_s),
                ("request p50 ms", r.latency_ms.p50),
                ("request p99 ms", r.latency_ms.p99),
            ],
            Outcome::Check(r) => vec![
                ("latency p50 ms", r.latency_ms.p50),
                ("latency p90 ms", r.latency_ms.p90),
                ("latency p99 ms", r.latency_ms.p99),
                ("latency p99.9 ms", r.latency_ms.p99_9),
                ("latency max ms", r.latency_ms.max),
                ("achieved req/s", r.achieved_rate),
                ("send lag p99 ms", r.send_lag_ms.p99),
                // Send to answer: the server's part of the latency, without the
                // generator's own lag (they share the machine's cores).
                ("service p99 ms", r.service_ms.p99),
            ],
            Outcome::Throughput(r) => vec![
                ("req/s", r.requests_per_s),
                ("latency p50 ms", r.latency_ms.p50),
                ("latency p99 ms", r.latency_ms.p99),
            ],
            Outcome::Copy(r) => vec![("rows/s", r.rows_per_s)],
        }
    }
}

/// CPU use by processes outside the benchmark plus steal (% of one core) above
/// which a run is flagged as disturbed.
const NOISY_OTHER_PCT: f64 = 25.0;

/// Runs grouped by label, in the order labels first appear.
fn groups(lines: &[Line]) -> Vec<(&str, Vec<&Line>)> {
    let mut out: Vec<(&str, Vec<&Line>)> = Vec::new();
    for l in lines {
        match out.iter_mut().find(|(label, _)| *label == l.label) {
            Some((_, v)) => v.push(l),
            None => out.push((&l.label, vec![l])),
        }
    }
    out
}

fn spread_cell(s: Option<Spread>) -> (String, String) {
    match s {
        Some(s) => (
            fmt_figure(s.median),
            format!("{}–{}", fmt_figure(s.min), fmt_figure(s.max)),
        ),
        None => ("-".into(), "-".into()),
    }
}

/// The summary table of `lines`, and whether any run had errors or anomalies.
pub fn table(lines: &[Line]) -> (String, bool) {
    let mut out = String::new();
    let mut problems = false;
    let _ = writeln!(
        out,
        "{:<24} {:<18} {:>10}  {:<21} {:>5} {:>7}",
        "scenario", "figure", "median", "min–max", "runs", "errors"
    );
    let _ = writeln!(out, "{}", "-".repeat(90));
    for (label, runs) in groups(lines) {
        let errors: u64 = runs.iter().map(|r| r.errors()).sum();
        let anomalies: u64 = runs.iter().map(|r| r.anomalies()).sum();
        problems |= errors > 0 || anomalies > 0;
        let names: Vec<&str> = runs[0].figures().iter().map(|f| f.0).collect();
        for (i, name) in names.iter().enumerate() {
            let values: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.figures().iter().find(|f| f.0 == *name).map(|f| f.1))
                .collect();
            let spread = Spread::of(&values);
            let (median, range) = spread_cell(spread);
            let first = i == 0;
            let noise = match spread {
                Some(s) if first && s.n > 1 => format!(" (±{:.0}%)", s.range_pct() / 2.0),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "{:<24} {:<18} {:>10}  {:<21} {:>5} {:>7}",
                if first { label } else { "" },
                name,
                median,
                format!("{range}{noise}"),
                if first {
                    values.len().to_string()
                } else {
                    String::new()
                },
                if first {
                    errors.to_string()
                } else {
                    String::new()
                },
            );
        }
        if anomalies > 0 {
            let _ = writeln!(
                out,
                "{:<24} !! {anomalies} duplicate or refused answers: the figures above are suspect",
                ""
            );
        }
    }

    let _ = writeln!(out, "\nCPU during the measurement windows, median of runs, % of one core (machine: % of all cores busy).");
    let _ = writeln!(out, "other = every other process and kernel thread (a busy neighbour shows here); steal = time the hypervisor");
    let _ = writeln!(
        out,
        "gave to other guests. On a quiet machine both stay near 0."
    );
    let _ = writeln!(
        out,
        "{:<24} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "scenario", "server", "postgres", "loadgen", "other", "steal", "machine"
    );
    for (label, runs) in groups(lines) {
        let cell = |f: &dyn Fn(&Line) -> Option<f64>| {
            Spread::of(&runs.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
                .map_or("-".to_string(), |s| format!("{:.0}%", s.median))
        };
        let proc_cell =
            |name: &str| cell(&|l: &Line| l.cpu().and_then(|c| c.processes.get(name).copied()));
        let _ = writeln!(
            out,
            "{:<24} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            label,
            proc_cell("server"),
            proc_cell("postgres"),
            proc_cell("loadgen"),
            cell(&|l: &Line| l.cpu().map(|c| c.other_pct)),
            cell(&|l: &Line| l.cpu().map(|c| c.steal_pct)),
            cell(&|l: &Line| l.cpu().map(|c| c.machine_busy_pct))
        );
    }
    let noisy: Vec<String> = groups(lines)
        .into_iter()
        .filter_map(|(label, runs)| {
            let other = Spread::of(
                &runs
                    .iter()
                    .filter_map(|r| r.cpu().map(|c| c.other_pct + c.steal_pct))
                    .collect::<Vec<_>>(),
            )?;
            (other.max > NOISY_OTHER_PCT).then(|| format!("{label} (up to {:.0}%)", other.max))
        })
        .collect();
    if !noisy.is_empty() {
        let _ = writeln!(
            out,
            "\n!! other processes or the hypervisor took more than {NOISY_OTHER_PCT:.0}% of a core during: {}; those runs were disturbed",
            noisy.join(", ")
        );
    }
    if problems {
        let _ = writeln!(out, "\n!!!!! SOME RUNS HAD ERRORS OR ANOMALIES: those figures do not describe a healthy server !!!!!");
        for l in lines.iter().filter(|l| l.errors() > 0 || l.anomalies() > 0) {
            let samples = match &l.result {
                Outcome::Events(r) => &r.error_samples,
                Outcome::Check(r) => &r.error_samples,
                Outcome::Throughput(r) => &r.error_samples,
                Outcome::Copy(_) => continue,
            };
            let _ = writeln!(
                out,
                "  {}: {} errors, {} anomalies; e.g. {}",
                l.label,
                l.errors(),
                l.anomalies(),
                samples.first().map_or("-", String::as_str)
            );
        }
    }
    (out, problems)
}

/// For each `A/B` in `pairs`, label A's median headline figure (the first the
/// table shows: events/s, req/s, rows/s) as a percentage of label B's. A pair
/// whose labels have no runs is reported as missing.
pub fn ratios(lines: &[Line], pairs: &[String]) -> String {
    let mut out = String::new();
    if pairs.is_empty() {
        return out;
    }
    let median = |label: &str| -> Option<(f64, &'static str)> {
        let runs: Vec<&Line> = lines.iter().filter(|l| l.label == label).collect();
        let name = runs.first()?.figures().first()?.0;
        let values: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.figures().first().map(|f| f.1))
            .collect();
        Spread::of(&values).map(|s| (s.median, name))
    };
    let _ = writeln!(
        out,
        "\nEach figure beside its baseline from the same run (medians):"
    );
    for pair in pairs {
        let Some((a, b)) = pair.split_once('/') else {
            let _ = writeln!(out, "  {pair}: not A/B");
            continue;
        };
        match (median(a), median(b)) {
            (Some((va, na)), Some((vb, nb))) if vb > 0.0 => {
                let _ = writeln!(
                    out,
                    "  {a} {} {na} = {:.0}% of {b} {} {nb}",
                    fmt_figure(va),
                    va / vb * 100.0,
                    fmt_figure(vb)
                );
            }
            _ => {
                let _ = writeln!(out, "  {a} / {b}: no runs of one of them");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Percentiles;

    fn pct(p50: f64) -> Percentiles {
        Percentiles {
            count: 10,
            mean: p50,
            p50,
            p90: p50 * 2.0,
            p99: p50 * 3.0,
            p99_9: p50 * 4.0,
            max: p50 * 5.0,
        }
    }

    fn events_line(label: &str, eps: f64, errors: u64) -> Line {
        Line {
            label: label.into(),
            result: Outcome::Events(events::Report {
                batch: 100,
                concurrency: 8,
                duration_s: 10.0,
                warmup_s: 2.0,
                requests: 10,
                events_accepted: 1000,
                duplicates: 0,
                events_per_s: eps,
                requests_per_s: eps / 100.0,
                errors,
                warmup_errors: 0,
                error_samples: if errors > 0 {
                    vec!["HTTP 500 Internal Server Error: boom".into()]
                } else {
                    vec![]
                },
                latency_ms: pct(10.0),
                cpu: None,
            }),
        }
    }

    fn check_line(label: &str, p50: f64) -> Line {
        Line {
            label: label.into(),
            result: Outcome::Check(check::Report {
                rate: 500.0,
                consume: false,
                duration_s: 10.0,
                warmup_s: 2.0,
                requests: 5000,
                ok: 5000,
                errors: 0,
                warmup_errors: 0,
                not_allowed: 0,
                duplicates: 0,
                achieved_rate: 499.0,
                error_samples: vec![],
                latency_ms: pct(p50),
                service_ms: pct(p50),
                send_lag_ms: pct(0.01),
                cpu: Some(crate::cpu::CpuUsage {
                    cpus: 2,
                    machine_busy_pct: 50.0,
                    processes: [("server".to_string(), 60.0)].into_iter().collect(),
                    other_pct: 30.0,
                    steal_pct: 10.0,
                }),
            }),
        }
    }

    #[test]
    fn lines_round_trip_as_json() {
        let l = check_line("check", 1.5);
        let text = serde_json::to_string(&l).unwrap();
        assert!(
            text.starts_with(r#"{"label":"check","kind":"check","#),
            "{text}"
        );
        let back = Line::parse(&text).unwrap();
        assert_eq!(back.label, "check");
        assert!(matches!(back.result, Outcome::Check(ref r) if r.latency_ms.p50 == 1.5));
        let e = Line::parse(&serde_json::to_string(&events_line("ev", 5.0, 0)).unwrap()).unwrap();
        assert!(Line::parse(r#"{"label":"x","kind":"other"}"#).is_err());
        assert!(matches!(e.result, Outcome::Events(ref r) if r.events_per_s == 5.0));
    }

    #[test]
    fn table_takes_median_and_range_per_label() {
        let lines = vec![
            events_line("events-batch100", 9000.0, 0),
            check_line("check", 2.0),
            events_line("events-batch100", 10000.0, 0),
            check_line("check", 1.0),
            events_line("events-batch100", 12000.0, 0),
            check_line("check", 3.0),
        ];
        let (text, problems) = table(&lines);
        assert!(!problems);
        let row = text
            .lines()
            .find(|l| l.starts_with("events-batch100"))
            .unwrap();
        assert!(
            row.contains("10000") && row.contains("9000–12000") && row.contains("(±15%)"),
            "{row}"
        );
        let row = text.lines().find(|l| l.starts_with("check ")).unwrap();
        assert!(
            row.contains("latency p50 ms") && row.contains("2.000") && row.contains("1.000–3.000"),
            "{row}"
        );
        assert!(text.contains("60%"), "{text}");
        assert!(
            text.contains("took more than 25% of a core during: check (up to 40%)"),
            "{text}"
        );
        assert!(!text.contains("!!!!!"));
        // Labels keep their first-seen order.
        assert!(text.find("events-batch100").unwrap() < text.find("check ").unwrap());
    }

    #[test]
    fn errors_are_loud() {
        let (text, problems) = table(&[events_line("events-batch1", 100.0, 3)]);
        assert!(problems);
        assert!(text.contains("!!!!! SOME RUNS HAD ERRORS"));
        assert!(text.contains("boom"));
        assert!(events_line("x", 1.0, 2)
            .human()
            .starts_with("!!! 2 ERRORS, 0 ANOMALIES !!! x: "));
        assert!(!events_line("x", 1.0, 0).human().contains("!!!"));
    }
}

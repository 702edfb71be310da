//! `loadgen`: a small load generator for Tollgate's HTTP API, run by
//! `scripts/bench.sh` against a release build of `tollgate serve`.
//!
//! - `loadgen events`: ingestion throughput of `POST /api/v1/events` (closed loop,
//!   N requests in flight), in accepted events/s.
//! - `loadgen check`: latency of `POST /api/v1/check` at a fixed request rate
//!   (open loop, measured from each request's scheduled send time), in ms.
//! - `loadgen live`: time from an event sent to one server process to a super
//!   admin's live usage board on another showing it (p50, p95), in ms.
//! - `loadgen throughput`: requests/s of one endpoint, closed loop (the
//!   `/healthz` baseline and the read check's ceiling beside it).
//! - `loadgen copy-rows` / `copy-result`: rows for the raw `COPY` baseline of
//!   ingestion, and the JSON line of one timed COPY.
//! - `loadgen summary FILE`: median and min–max of repeated runs, from the JSON
//!   lines the others print, and the ratios asked for with `--ratio`.
//!
//! Each run prints one JSON line on stdout (for scripts) and one human line on
//! stderr. Runs are bounded in time and meant for 127.0.0.1 only.

mod check;
mod copy;
mod cpu;
mod events;
mod faults;
mod http;
mod live;
mod race;
mod stats;
mod summary;
mod throughput;
mod webhooks;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use summary::{Line, Outcome};

/// Load generator for Tollgate's HTTP API.
#[derive(Parser)]
#[command(name = "loadgen", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingestion throughput of POST /api/v1/events (closed loop).
    Events(EventsArgs),
    /// Latency of POST /api/v1/check at a fixed request rate (open loop).
    Check(CheckArgs),
    /// Time from an event to the admin's live usage board showing it.
    Live(LiveArgs),
    /// Many consuming checks for one account released at once: exactly as many
    /// are allowed as the hard limit leaves (exits with status 4 otherwise).
    Race(RaceArgs),
    /// Events sent under faults (retried with the same keys until answered, 5 %
    /// sent twice), then counted: exits with status 4 unless exact.
    Faults(FaultsArgs),
    /// Requests/s of one endpoint, closed loop (GET, or POST with --body).
    Throughput(ThroughputArgs),
    /// Outgoing webhooks, with a receiver of loadgen's own: the time from a usage
    /// event crossing a threshold to its delivery, or the delivery worker's
    /// throughput.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// CSV rows shaped like stored events, for the raw COPY baseline: the events to
    /// stdout, their idempotency keys to `--keys-file`.
    CopyRows {
        /// Where the `usage_event_keys` rows go.
        #[arg(long)]
        keys_file: std::path::PathBuf,
        /// The account the rows belong to (uuid).
        #[arg(long)]
        account: String,
        /// Meter of the rows.
        #[arg(long, default_value = "queries")]
        meter: String,
        /// Rows to write.
        #[arg(long, default_value_t = 300_000)]
        rows: u64,
        /// The rows' event time (RFC 3339), e.g. `date -u +%FT%TZ`.
        #[arg(long)]
        occurred_at: String,
    },
    /// The JSON line of one timed COPY of `rows` rows in `seconds`.
    CopyResult {
        #[arg(long)]
        rows: u64,
        #[arg(long)]
        seconds: f64,
        #[arg(long, default_value = "copy")]
        label: String,
    },
    /// Median and min–max of repeated runs, from a file of JSON lines; exits with
    /// status 3 when any run had errors or anomalies.
    Summary {
        /// File with one JSON line per run (what the other commands print).
        file: PathBuf,
        /// Also print label A's median headline figure as a share of label B's,
        /// as A/B (repeatable), e.g. --ratio check-max/healthz.
        #[arg(long = "ratio")]
        ratios: Vec<String>,
    },
}

/// Options shared by both scenarios.
#[derive(Args)]
struct Common {
    /// Server base URL (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:3200")]
    url: String,
    /// Account API key (`tg_sk_…`).
    #[arg(long, env = "LOADGEN_KEY", hide_env_values = true)]
    key: String,
    /// Measurement window, e.g. 15s.
    #[arg(long, default_value = "15s", value_parser = stats::parse_duration)]
    duration: Duration,
    /// Load before the measurement window, not measured, e.g. 2s.
    #[arg(long, default_value = "2s", value_parser = stats::parse_duration)]
    warmup: Duration,
    /// Per-request timeout; a timed-out request is an error.
    #[arg(long, default_value = "10s", value_parser = stats::parse_duration)]
    timeout: Duration,
    /// Scenario name in the output; runs with the same label are aggregated.
    #[arg(long)]
    label: Option<String>,
    /// Also report the CPU use of this process tree, as NAME=PID (repeatable),
    /// e.g. --watch server=1234 --watch postgres=987 (the postmaster).
    #[arg(long = "watch", value_parser = cpu::parse_watch)]
    watches: Vec<cpu::Watch>,
}

#[derive(Args)]
struct EventsArgs {
    #[command(flatten)]
    common: Common,
    /// Events per request (1 to 1000).
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Meter the events count on.
    #[arg(long, default_value = "queries")]
    meter: String,
    /// Events per second to send in all, paced (default: closed loop, as fast as
    /// the answers come).
    #[arg(long)]
    rate: Option<f64>,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    common: Common,
    /// Requests per second to send.
    #[arg(long)]
    rate: f64,
    /// Consume (record) the checked quantity, with a unique idempotency key.
    #[arg(long)]
    consume: bool,
    /// Feature (meter) to check.
    #[arg(long, default_value = "queries")]
    feature: String,
    /// At most this many requests in flight; the schedule waits past it.
    #[arg(long, default_value_t = 1000)]
    max_in_flight: usize,
}

#[derive(Args)]
struct ThroughputArgs {
    /// Server base URL (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:3200")]
    url: String,
    /// Path to request, e.g. /healthz.
    #[arg(long)]
    path: String,
    /// JSON body to POST (a GET without it).
    #[arg(long)]
    body: Option<String>,
    /// API key to send as a bearer token, if any.
    #[arg(long, env = "LOADGEN_KEY", hide_env_values = true)]
    key: Option<String>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Measurement window, e.g. 15s.
    #[arg(long, default_value = "15s", value_parser = stats::parse_duration)]
    duration: Duration,
    /// Load before the measurement window, not measured.
    #[arg(long, default_value = "2s", value_parser = stats::parse_duration)]
    warmup: Duration,
    /// Scenario name in the output.
    #[arg(long)]
    label: Option<String>,
    /// Also report the CPU use of this process tree, as NAME=PID (repeatable).
    #[arg(long = "watch", value_parser = cpu::parse_watch)]
    watches: Vec<cpu::Watch>,
}

#[derive(Subcommand)]
enum WebhooksCommand {
    /// One event per account (`ext:<prefix><i>`, 260 of 500 queries), one at a
    /// time: POST to delivery arrival.
    Latency {
        #[arg(long, default_value = "http://127.0.0.1:3400")]
        url: String,
        /// A platform key (`tg_pk_…`).
        #[arg(long, env = "LOADGEN_KEY", hide_env_values = true)]
        key: String,
        /// Where the receiver listens (the endpoint points there).
        #[arg(long, default_value = "127.0.0.1:3998")]
        listen: std::net::SocketAddr,
        #[arg(long, default_value = "wh-")]
        prefix: String,
        #[arg(long, default_value_t = 200)]
        events: usize,
        #[arg(long, default_value = "50ms", value_parser = stats::parse_duration)]
        pause: Duration,
    },
    /// Counts `expect` deliveries written in bulk once the receiver listens.
    Drain {
        #[arg(long, default_value = "127.0.0.1:3998")]
        listen: std::net::SocketAddr,
        #[arg(long)]
        expect: usize,
        /// Written once the receiver listens.
        #[arg(long)]
        ready_file: PathBuf,
        #[arg(long, default_value = "300s", value_parser = stats::parse_duration)]
        timeout: Duration,
    },
}

#[derive(Args)]
struct LiveArgs {
    /// The super admin's server (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:3200")]
    url: String,
    /// Where events are sent (another process on the same database); default: --url.
    #[arg(long)]
    events_url: Option<String>,
    /// The customer's account key (`tg_sk_…`).
    #[arg(long, env = "LOADGEN_KEY", hide_env_values = true)]
    key: String,
    /// The customer's account id.
    #[arg(long)]
    account: String,
    /// A super admin's e-mail and password.
    #[arg(long)]
    admin_email: String,
    #[arg(long, env = "LOADGEN_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: String,
    /// Events to measure (at least 20 for a p95).
    #[arg(long, default_value_t = 40)]
    events: usize,
    /// Rest between events, e.g. 250ms.
    #[arg(long, default_value = "250ms", value_parser = stats::parse_duration)]
    pause: Duration,
    /// Meter the events count on.
    #[arg(long, default_value = "queries")]
    meter: String,
    /// Other admin streams held open meanwhile (tabs; at most 7 more for one admin).
    #[arg(long, default_value_t = 0)]
    tabs: usize,
    /// Loads of /admin/usage to time.
    #[arg(long, default_value_t = 10)]
    page_loads: usize,
}

#[derive(Args)]
struct RaceArgs {
    /// Server base URL (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:3200")]
    url: String,
    /// Account API key (`tg_sk_…`); its plan or override gives the hard limit.
    #[arg(long, env = "LOADGEN_KEY", hide_env_values = true)]
    key: String,
    /// The metered feature to consume.
    #[arg(long, default_value = "queries")]
    feature: String,
    /// Consuming checks released at once.
    #[arg(long, default_value_t = 1000)]
    requests: usize,
}

#[derive(Args)]
struct FaultsArgs {
    /// A server base URL (loopback only); repeat for several on one database.
    #[arg(long = "url", required = true)]
    urls: Vec<String>,
    /// Account API key (`tg_sk_…`).
    #[arg(long, env = "LOADGEN_KEY", hide_env_values = true)]
    key: String,
    /// Counting meter the events go to.
    #[arg(long, default_value = "queries")]
    meter: String,
    /// Events in all.
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    /// Events per request.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Clients sending at once.
    #[arg(long, default_value_t = 50)]
    concurrency: usize,
    /// Give up on a batch after this long without an answer, e.g. 120s.
    #[arg(long, default_value = "120s", value_parser = stats::parse_duration)]
    give_up_after: Duration,
}

/// Prints a run's JSON line (stdout) and human line (stderr).
fn emit(line: &Line) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(line)?);
    eprintln!("{}", line.human());
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Events(a) => {
            let c = a.common;
            let opts = events::Options {
                url: c.url,
                key: c.key,
                batch: a.batch,
                concurrency: a.concurrency,
                duration: c.duration,
                warmup: c.warmup,
                meter: a.meter,
                rate: a.rate,
            };
            let report = events::run(&http::client(c.timeout)?, &opts, &c.watches).await?;
            let label = c
                .label
                .unwrap_or_else(|| format!("events-batch{}", a.batch));
            emit(&Line {
                label,
                result: Outcome::Events(report),
            })?;
        }
        Command::Check(a) => {
            let c = a.common;
            let opts = check::Options {
                url: c.url,
                key: c.key,
                rate: a.rate,
                duration: c.duration,
                warmup: c.warmup,
                consume: a.consume,
                feature: a.feature,
                max_in_flight: a.max_in_flight,
            };
            let report =
                check::run(&http::client(c.timeout)?, &opts, c.timeout, &c.watches).await?;
            let label = c.label.unwrap_or_else(|| {
                if a.consume {
                    "check-consume".into()
                } else {
                    "check".into()
                }
            });
            emit(&Line {
                label,
                result: Outcome::Check(report),
            })?;
        }
        Command::Live(a) => {
            anyhow::ensure!(a.events >= 1, "--events must be at least 1");
            let events_url = a.events_url.unwrap_or_else(|| a.url.clone());
            let opts = live::Options {
                url: a.url,
                events_url,
                key: a.key,
                account: a.account,
                admin_email: a.admin_email,
                admin_password: a.admin_password,
                events: a.events,
                pause: a.pause,
                meter: a.meter,
                tabs: a.tabs,
                page_loads: a.page_loads,
            };
            let r = live::run(&http::client(Duration::from_secs(10))?, &opts).await?;
            println!("{}", serde_json::to_string(&r)?);
            eprintln!(
                "live admin board: {} events with {} other admin streams open, event → admin meter p50 {:.1} ms, p95 {:.1} ms (min {:.1}, max {:.1}); /admin/usage page p50 {} ms, max {} ms",
                r.events,
                r.tabs,
                r.p50_ms,
                r.p95_ms,
                r.min_ms,
                r.max_ms,
                r.page_p50_ms.map_or("-".into(), |v| format!("{v:.1}")),
                r.page_max_ms.map_or("-".into(), |v| format!("{v:.1}"))
            );
        }
        Command::Race(a) => {
            let opts = race::Options {
                url: a.url,
                key: a.key,
                feature: a.feature,
                requests: a.requests,
            };
            let r = race::run(&opts).await?;
            println!("{}", serde_json::to_string(&r)?);
            eprintln!(
                "race: {} consuming checks at once against a hard limit at {} (usage {} before): {} allowed, {} refused, {} errors; usage after {}: {}",
                r.requests, r.blocks_at, r.usage_before, r.allowed, r.refused, r.errors, r.usage_after,
                if r.exact { "exact" } else { "NOT EXACT" }
            );
            if !r.exact {
                return Ok(ExitCode::from(4));
            }
        }
        Command::Faults(a) => {
            let opts = faults::Options {
                urls: a.urls,
                key: a.key,
                meter: a.meter,
                events: a.events,
                batch: a.batch,
                concurrency: a.concurrency,
                give_up_after: a.give_up_after,
            };
            let r = faults::run(opts).await?;
            println!("{}", serde_json::to_string(&r)?);
            eprintln!(
                "faults: {} events in {} batches in {:.1} s ({:.0} events/s): {} answers, {} retries after failures, {} batches sent twice; accepted {}, duplicates {}, abandoned {}; stored usage {}: {}",
                r.events, r.batches, r.seconds, r.events as f64 / r.seconds, r.answered, r.retried, r.resent, r.accepted, r.duplicates, r.abandoned, r.usage_after,
                if r.exact { "exact" } else { "NOT EXACT" }
            );
            if !r.exact {
                return Ok(ExitCode::from(4));
            }
        }
        Command::Webhooks(WebhooksCommand::Latency { url, key, listen, prefix, events, pause }) => {
            anyhow::ensure!(events >= 20, "--events must be at least 20 for a p95");
            let r = webhooks::latency(&url, &key, listen, &prefix, events, pause).await?;
            println!("{}", serde_json::to_string(&r)?);
            eprintln!(
                "webhooks: {} events, POST /api/v1/events crossing a threshold → signed delivery at the receiver: p50 {:.1} ms, p95 {:.1} ms (min {:.1}, max {:.1})",
                r.events, r.p50_ms, r.p95_ms, r.min_ms, r.max_ms
            );
        }
        Command::Webhooks(WebhooksCommand::Drain { listen, expect, ready_file, timeout }) => {
            let r = webhooks::drain(listen, expect, &ready_file, timeout).await?;
            println!("{}", serde_json::to_string(&r)?);
            eprintln!(
                "webhooks: {} deliveries written at once, drained at {:.0} deliveries/s (first to last arrival); the last arrived {:.1} s after the receiver started",
                r.deliveries, r.deliveries_per_s, r.total_s
            );
        }
        Command::Throughput(a) => {
            let opts = throughput::Options {
                url: format!("{}{}", a.url.trim_end_matches('/'), a.path),
                auth: a.key.as_deref().map(http::bearer).transpose()?,
                body: a.body,
                concurrency: a.concurrency,
                duration: a.duration,
                warmup: a.warmup,
            };
            let report =
                throughput::run(&http::client(Duration::from_secs(10))?, &opts, &a.watches).await?;
            emit(&Line {
                label: a.label.unwrap_or_else(|| a.path.clone()),
                result: Outcome::Throughput(report),
            })?;
        }
        Command::CopyRows {
            keys_file,
            account,
            meter,
            rows,
            occurred_at,
        } => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let mut keys = std::io::BufWriter::new(std::fs::File::create(&keys_file)?);
            copy::write_rows(&mut out, &mut keys, &account, &meter, &occurred_at, rows)?;
            std::io::Write::flush(&mut out)?;
            std::io::Write::flush(&mut keys)?;
        }
        Command::CopyResult {
            rows,
            seconds,
            label,
        } => {
            anyhow::ensure!(seconds > 0.0, "--seconds must be positive");
            emit(&Line {
                label,
                result: Outcome::Copy(copy::Report {
                    rows,
                    seconds,
                    rows_per_s: rows as f64 / seconds,
                }),
            })?;
        }
        Command::Summary { file, ratios } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let lines = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, l)| {
                    Line::parse(l).with_context(|| {
                        format!("{}:{}: not a loadgen result", file.display(), i + 1)
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            anyhow::ensure!(!lines.is_empty(), "{} has no results", file.display());
            let (table, problems) = summary::table(&lines);
            print!("{table}");
            print!("{}", summary::ratios(&lines, &ratios));
            if problems {
                return Ok(ExitCode::from(3));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("loadgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}

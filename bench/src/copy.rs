//! The ingestion baseline: a raw `COPY` of rows shaped like the ones
//! `POST /api/v1/events` stores (same tables, same indexes, same columns and
//! sizes) into `usage_events` and `usage_event_keys` (each event is one row in
//! each). `loadgen copy-rows` writes them as two CSV files;
//! `scripts/bench.sh` times `psql \copy` of both and records the result with
//! `loadgen copy-result`, so the summary prints ingestion beside the database's
//! own ceiling from the same run.

use serde::{Deserialize, Serialize};
use std::io::Write;

/// One timed COPY (one JSON line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Rows copied.
    pub rows: u64,
    /// Wall time of the COPY, s.
    pub seconds: f64,
    /// Rows per second: the headline figure.
    pub rows_per_s: f64,
}

/// Writes `rows` CSV rows of the columns `id, account_id, meter, quantity,
/// occurred_at, idempotency_key, properties` to `events` and the matching rows of
/// `account_id, idempotency_key, payload_hash, event_id, occurred_at` to `keys`
/// (the other columns take their defaults, as they do for the API) for `account`
/// on `meter`: fresh ids and idempotency keys (unique per call), quantity 1, the
/// event's time `occurred_at` (RFC 3339), a 32-byte payload hash and the properties
/// the events scenario sends.
///
/// # Errors
/// Writing to `events` or `keys` failed.
pub fn write_rows(
    events: &mut impl Write,
    keys: &mut impl Write,
    account: &str,
    meter: &str,
    occurred_at: &str,
    rows: u64,
) -> std::io::Result<()> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    for i in 0..rows {
        let id = uuid::Uuid::new_v4();
        // The API stores SHA-256 of the payload; any 32 bytes have the same size.
        let hash = format!("{}{}", id.simple(), uuid::Uuid::new_v4().simple());
        writeln!(
            events,
            r#"{id},{account},{meter},1,{occurred_at},copy-{run}-{i},"{{""model"":""bench"",""cost_usd"":""0.0031""}}""#
        )?;
        writeln!(
            keys,
            r#"{account},copy-{run}-{i},\x{hash},{id},{occurred_at}"#
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_csv_with_unique_keys_matching_their_events() {
        let (mut events, mut keys) = (Vec::new(), Vec::new());
        write_rows(
            &mut events,
            &mut keys,
            "acc",
            "queries",
            "2026-01-01T00:00:00Z",
            3,
        )
        .unwrap();
        let (events, keys) = (
            String::from_utf8(events).unwrap(),
            String::from_utf8(keys).unwrap(),
        );
        let lines: Vec<&str> = events.lines().collect();
        assert_eq!(lines.len(), 3);
        let fields: Vec<&str> = lines[0].splitn(7, ',').collect();
        assert_eq!(fields[1..4], ["acc", "queries", "1"]);
        assert!(fields[5].ends_with("-0"));
        assert_eq!(
            fields[6],
            r#""{""model"":""bench"",""cost_usd"":""0.0031""}""#
        );
        assert_ne!(lines[0].split(',').nth(5), lines[1].split(',').nth(5));
        let key: Vec<&str> = keys.lines().next().unwrap().split(',').collect();
        assert_eq!(key[0], "acc");
        assert_eq!(key[1], fields[5], "the key of the event");
        assert_eq!(key[2].len(), 2 + 64, "\\x and 32 bytes in hex");
        assert_eq!(key[3], fields[0], "the event's id");
        assert_eq!(key[4], "2026-01-01T00:00:00Z");
    }
}

//! A year of one business's history with every figure of the report asserted
//! (computed by hand from the emtchat catalog: starter $19/$190, pro $49/$490,
//! team $39/$390 per seat), and properties over random histories.

use super::cash::InvoiceFacts;
use super::mrr::Redemption;
use super::report::{self, exact_now, Input, MonthRow, Slice};
use super::timeline::{build, ChangeFacts, SubscriptionFacts};
use crate::catalog::{file::parse, Catalog};
use crate::coupon::{Coupon, Discount, Duration};
use crate::keys::Key;
use crate::period::Interval;
use crate::subscription::Status;
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;
use uuid::Uuid;

fn emtchat() -> Catalog {
    parse(
        "catalogs/emtchat.toml",
        include_str!("../../catalogs/emtchat.toml"),
    )
    .expect("the shipped catalog parses")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("test timestamp")
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("test decimal")
}

fn account(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// `(at, plan, interval, seats, status)`.
type Step = (&'static str, &'static str, Interval, u32, Status);

struct Sub {
    account: u128,
    provider: &'static str,
    steps: &'static [Step],
    trial_ended_at: Option<&'static str>,
    canceled_at: Option<&'static str>,
}

use Interval::{Month as M, Year as Y};
use Status::{Active as A, PastDue as P, Trialing as T};

const NOW: &str = "2026-12-05T12:00:00Z";

/// The seeded history (accounts 1–10):
/// 1 starter monthly from Jan 10; 2 pro annual from Feb 15; 3 team 3 seats from
/// Mar 1 00:00, 5 seats from Jun 10; 4 starter trial from Nov 20 (still trialing);
/// 5 pro monthly from Apr 5 with a 50 % forever coupon; 6 starter May 1, upgraded to
/// pro Jul 15; 7 pro Feb 1, downgraded to starter Aug 20; 8 starter Mar 10,
/// canceled Sep 10, back on pro Nov 2; 9 pro through Stripe from Jun 1, past due
/// from Nov 25; 10 (bank transfer) starter annual trial from Sep 17, paying from
/// Oct 1 12:00 (the manual provider records no change when a trial ends).
fn business() -> Input {
    let subs: Vec<Sub> = vec![
        Sub {
            account: 1,
            provider: "manual",
            steps: &[("2026-01-10T09:00:00Z", "starter", M, 1, A)],
            trial_ended_at: None,
            canceled_at: None,
        },
        Sub {
            account: 2,
            provider: "manual",
            steps: &[("2026-02-15T09:00:00Z", "pro", Y, 1, A)],
            trial_ended_at: None,
            canceled_at: None,
        },
        Sub {
            account: 3,
            provider: "manual",
            steps: &[
                ("2026-03-01T00:00:00Z", "team", M, 3, A),
                ("2026-06-10T09:00:00Z", "team", M, 5, A),
            ],
            trial_ended_at: None,
            canceled_at: None,
        },
        Sub {
            account: 4,
            provider: "manual",
            steps: &[("2026-11-20T09:00:00Z", "starter", M, 1, T)],
            trial_ended_at: None,
            canceled_at: None,
        },
        Sub {
            account: 5,
            provider: "manual",
            steps: &[("2026-04-05T09:00:00Z", "pro", M, 1, A)],
            trial_ended_at: None,
            canceled_at: None,
        },
        Sub {
            account: 6,
            provider: "manual",
            steps: &[
                ("2026-05-01T10:00:00Z", "starter", M, 1, A),
                ("2026-07-15T09:00:00Z", "pro", M, 1, A),
            ],
            trial_ended_at: None,
            canceled_at: None,
        },
        Sub {
            account: 7,
            provider: "manual",
            steps: &[
                ("2026-02-01T10:00:00Z", "pro", M, 1, A),
                ("2026-08-20T09:00:00Z", "starter", M, 1, A),
            ],
            trial_ended_at: None,
            canceled_at: None,
        },
        Sub {
            account: 8,
            provider: "manual",
            steps: &[("2026-03-10T09:00:00Z", "starter", M, 1, A)],
            trial_ended_at: None,
            canceled_at: Some("2026-09-10T09:00:00Z"),
        },
        Sub {
            account: 8,
            provider: "manual",
            steps: &[("2026-11-02T09:00:00Z", "pro", M, 1, A)],
            trial_ended_at: None,
            canceled_at: None,
        },
        Sub {
            account: 9,
            provider: "stripe",
            steps: &[
                ("2026-06-01T12:00:00Z", "pro", M, 1, A),
                ("2026-11-25T08:00:00Z", "pro", M, 1, P),
            ],
            trial_ended_at: None,
            canceled_at: None,
        },
        Sub {
            account: 10,
            provider: "manual",
            steps: &[("2026-09-17T12:00:00Z", "starter", Y, 1, T)],
            trial_ended_at: Some("2026-10-01T12:00:00Z"),
            canceled_at: None,
        },
    ];
    let histories = subs
        .iter()
        .enumerate()
        .map(|(i, s)| history(i, s))
        .collect();
    let nonprofit = Coupon {
        code: Key::parse("nonprofit").expect("key"),
        name: "Non-profit".into(),
        discount: Discount::PercentOff(d("50")),
        duration: Duration::Forever,
    };
    let coupons = HashMap::from([(
        account(5),
        Redemption {
            coupon: nonprofit,
            redeemed_at: at("2026-04-05T09:00:00Z"),
        },
    )]);
    let invoice =
        |issued: &str, due: &str, total: &str, due_amount: &str, usage: &str| InvoiceFacts {
            issued_at: Some(at(issued)),
            due_at: Some(at(due)),
            paid_at: None,
            voided_at: None,
            uncollectible_at: None,
            total: d(total),
            amount_due: d(due_amount),
            amount_paid: Decimal::ZERO,
            usage: d(usage),
        };
    let invoices = vec![
        // The bank-transfer customer's annual invoice, paid five days late.
        InvoiceFacts {
            paid_at: Some(at("2026-10-20T10:00:00Z")),
            amount_paid: d("190"),
            ..invoice(
                "2026-10-01T12:00:00Z",
                "2026-10-15T12:00:00Z",
                "190",
                "190",
                "0",
            )
        },
        // Unpaid: overdue since Nov 15.
        invoice(
            "2026-11-01T00:30:00Z",
            "2026-11-15T00:30:00Z",
            "49",
            "49",
            "0",
        ),
        // $11 of usage, $10 of credit applied, paid in December.
        InvoiceFacts {
            paid_at: Some(at("2026-12-02T10:00:00Z")),
            amount_paid: d("50"),
            ..invoice(
                "2026-11-05T00:30:00Z",
                "2026-11-19T00:30:00Z",
                "60",
                "50",
                "11",
            )
        },
        // Voided the day after: counts nowhere.
        InvoiceFacts {
            voided_at: Some(at("2026-11-11T00:00:00Z")),
            ..invoice(
                "2026-11-10T00:30:00Z",
                "2026-11-24T00:30:00Z",
                "19",
                "19",
                "0",
            )
        },
        // A draft is not billed.
        InvoiceFacts {
            issued_at: None,
            ..invoice(
                "2026-12-01T00:30:00Z",
                "2026-12-15T00:30:00Z",
                "19",
                "19",
                "0",
            )
        },
    ];
    Input {
        histories,
        coupons,
        invoices,
        failed_payments: vec![at("2026-11-25T08:00:00Z")],
    }
}

fn history(i: usize, s: &Sub) -> super::timeline::History {
    let (first, last) = (s.steps[0], s.steps[s.steps.len() - 1]);
    let row = SubscriptionFacts {
        id: Uuid::from_u128(1000 + i as u128),
        account_id: account(s.account),
        provider: s.provider.into(),
        plan: last.1.into(),
        interval: last.2,
        seats: last.3,
        status: if s.canceled_at.is_some() {
            Status::Canceled
        } else if s.trial_ended_at.is_some() {
            A
        } else {
            last.4
        },
        created_at: at(first.0),
        trial_ended_at: s.trial_ended_at.map(at),
        canceled_at: s.canceled_at.map(at),
        kept_price: None,
        kept_until: None,
    };
    let changes: Vec<ChangeFacts> = s
        .steps
        .iter()
        .map(|(t, plan, interval, seats, status)| ChangeFacts {
            plan: (*plan).into(),
            interval: *interval,
            seats: Some(*seats),
            status: *status,
            at: at(t),
        })
        .collect();
    build(&row, &changes)
}

/// A month with only MRR figures (and no customers moving), for the quiet months.
#[allow(clippy::too_many_arguments)]
fn row(
    label: &str,
    opening: &str,
    closing: &str,
    moves: [&str; 5],
    customers: (u32, u32),
    counts: [u32; 3],
    rates: [Option<&str>; 3],
) -> MonthRow {
    let [new, reactivation, expansion, contraction, churn] = moves.map(d);
    let (start, end, partial) = match label {
        "2026-12" => (
            at("2026-12-01T00:00:00Z"),
            at("2026-12-05T12:00:00.000001Z"),
            true,
        ),
        _ => {
            let start = at(&format!("{label}-01T00:00:00Z"));
            (
                start,
                start
                    .checked_add_months(chrono::Months::new(1))
                    .expect("month"),
                false,
            )
        }
    };
    MonthRow {
        label: label.into(),
        start,
        end,
        partial,
        opening_mrr: d(opening),
        closing_mrr: d(closing),
        new_mrr: new,
        reactivation_mrr: reactivation,
        expansion_mrr: expansion,
        contraction_mrr: contraction,
        churned_mrr: churn,
        net_new_mrr: (new + reactivation + expansion - contraction - churn).round_dp(2),
        customers_opening: customers.0,
        customers_closing: customers.1,
        new_customers: counts[0],
        reactivated_customers: counts[1],
        churned_customers: counts[2],
        logo_churn_rate: rates[0].map(d),
        revenue_churn_rate: rates[1].map(d),
        net_revenue_retention: rates[2].map(d),
        billed: Decimal::ZERO,
        collected: Decimal::ZERO,
        outstanding: Decimal::ZERO,
        overdue: Decimal::ZERO,
        usage_revenue: Decimal::ZERO,
        failed_payments: 0,
    }
}

const ZERO: &str = "0";
const FULL: [Option<&str>; 3] = [Some("0"), Some("0"), Some("100")];

#[test]
fn a_year_of_history_every_figure() {
    let r = report::build(&emtchat(), &business(), at(NOW), 12);
    assert_eq!(r.currency.code(), "USD");
    let n = &r.now;
    // 19 + 490/12 + 5×39 + 49×50% + 49 + 19 + 49 + 49 (past due still owed) + 190/12.
    assert_eq!(n.mrr, d("461.17"));
    assert_eq!(n.arr, d("5534.00"));
    assert_eq!(n.trial_mrr, d("19.00"), "account 4's trial, counted apart");
    assert_eq!(n.paying_accounts, 9);
    assert_eq!(n.arpa, Some(d("51.24")));
    assert_eq!((n.active, n.trialing, n.past_due, n.canceled), (8, 1, 1, 1));
    let slice = |key: &str, name: &str, mrr: &str, paying, trialing| Slice {
        key: key.into(),
        name: name.into(),
        mrr: d(mrr),
        paying,
        trialing,
    };
    assert_eq!(
        n.by_plan,
        vec![
            slice("starter", "Starter", "53.83", 3, 1),
            slice("pro", "Pro", "212.33", 5, 0),
            slice("team", "Team", "195.00", 1, 0)
        ]
    );
    assert_eq!(
        n.by_provider,
        vec![
            slice("manual", "Manual (invoice, bank transfer)", "412.17", 8, 1),
            slice("stripe", "Stripe (card)", "49.00", 1, 0)
        ]
    );

    let mut expected = vec![
        row(
            "2026-01",
            ZERO,
            "19.00",
            ["19.00", ZERO, ZERO, ZERO, ZERO],
            (0, 1),
            [1, 0, 0],
            [None; 3],
        ),
        row(
            "2026-02",
            "19.00",
            "108.83",
            ["89.83", ZERO, ZERO, ZERO, ZERO],
            (1, 3),
            [2, 0, 0],
            FULL,
        ),
        row(
            "2026-03",
            "108.83",
            "244.83",
            ["136.00", ZERO, ZERO, ZERO, ZERO],
            (3, 5),
            [2, 0, 0],
            FULL,
        ),
        row(
            "2026-04",
            "244.83",
            "269.33",
            ["24.50", ZERO, ZERO, ZERO, ZERO],
            (5, 6),
            [1, 0, 0],
            FULL,
        ),
        row(
            "2026-05",
            "269.33",
            "288.33",
            ["19.00", ZERO, ZERO, ZERO, ZERO],
            (6, 7),
            [1, 0, 0],
            FULL,
        ),
        // Stripe customer 9 joins; team account 3 goes from 3 to 5 seats.
        row(
            "2026-06",
            "288.33",
            "415.33",
            ["49.00", ZERO, "78.00", ZERO, ZERO],
            (7, 8),
            [1, 0, 0],
            [Some("0"), Some("0"), Some("127.05")],
        ),
        row(
            "2026-07",
            "415.33",
            "445.33",
            [ZERO, ZERO, "30.00", ZERO, ZERO],
            (8, 8),
            [0, 0, 0],
            [Some("0"), Some("0"), Some("107.22")],
        ),
        row(
            "2026-08",
            "445.33",
            "415.33",
            [ZERO, ZERO, ZERO, "30.00", ZERO],
            (8, 8),
            [0, 0, 0],
            [Some("0"), Some("6.74"), Some("93.26")],
        ),
        row(
            "2026-09",
            "415.33",
            "396.33",
            [ZERO, ZERO, ZERO, ZERO, "19.00"],
            (8, 7),
            [0, 0, 1],
            [Some("12.50"), Some("4.57"), Some("95.43")],
        ),
        row(
            "2026-10",
            "396.33",
            "412.17",
            ["15.83", ZERO, ZERO, ZERO, ZERO],
            (7, 8),
            [1, 0, 0],
            FULL,
        ),
        row(
            "2026-11",
            "412.17",
            "461.17",
            [ZERO, "49.00", ZERO, ZERO, ZERO],
            (8, 9),
            [0, 1, 0],
            FULL,
        ),
        row(
            "2026-12",
            "461.17",
            "461.17",
            [ZERO; 5],
            (9, 9),
            [0, 0, 0],
            FULL,
        ),
    ];
    let oct = &mut expected[9];
    (oct.billed, oct.collected) = (d("190"), d("190"));
    let nov = &mut expected[10];
    (
        nov.billed,
        nov.usage_revenue,
        nov.outstanding,
        nov.overdue,
        nov.failed_payments,
    ) = (d("109"), d("11"), d("99"), d("99"), 1);
    let dec = &mut expected[11];
    (dec.collected, dec.outstanding, dec.overdue) = (d("50"), d("49"), d("49"));
    for (got, want) in r.months.iter().zip(&expected) {
        assert_eq!(got, want, "month {}", want.label);
    }
    assert_eq!(r.months.len(), 12);
}

#[test]
fn history_from_rows() {
    // A canceled trial: the trial's end and the cancellation are the same instant,
    // so it never becomes active.
    let row = SubscriptionFacts {
        id: Uuid::from_u128(1),
        account_id: account(1),
        provider: "manual".into(),
        plan: "pro".into(),
        interval: M,
        seats: 1,
        status: Status::Canceled,
        created_at: at("2026-01-01T00:00:00Z"),
        trial_ended_at: Some(at("2026-01-15T00:00:00Z")),
        canceled_at: Some(at("2026-01-15T00:00:00Z")),
        kept_price: None,
        kept_until: None,
    };
    let h = build(&row, &[]);
    assert_eq!(h.segments.len(), 2);
    assert_eq!(h.segments[0].terms.as_ref().map(|t| t.status), Some(T));
    assert!(h.segments[1].terms.is_none());
    // Without history rows a live subscription has had its terms since creation.
    let live = SubscriptionFacts {
        status: A,
        trial_ended_at: None,
        canceled_at: None,
        seats: 4,
        ..row.clone()
    };
    let h = build(&live, &[]);
    assert_eq!(
        h.before(at("2026-01-01T00:00:01Z"))
            .map(|t| (t.status, t.seats)),
        Some((A, 4))
    );
    assert_eq!(
        h.before(at("2026-01-01T00:00:00Z")),
        None,
        "nothing before it began"
    );
    // A change without seats keeps the seats before it.
    let c = |t: &str, seats| ChangeFacts {
        plan: "team".into(),
        interval: M,
        seats,
        status: A,
        at: at(t),
    };
    let h = build(
        &live,
        &[
            c("2026-01-01T00:00:00Z", Some(3)),
            c("2026-02-01T00:00:00Z", None),
        ],
    );
    assert_eq!(
        h.before(at("2026-03-01T00:00:00Z")).map(|t| t.seats),
        Some(3)
    );
}

#[test]
fn a_grandfathered_price_counts_until_the_move_takes_effect() {
    // Pro at a kept $40 a month (the catalog says $49), moved from Mar 1 on.
    let catalog = emtchat();
    let mut kept = catalog
        .plan("pro")
        .and_then(|p| p.price(M))
        .cloned()
        .expect("pro monthly");
    kept.amount.amount = d("40");
    let row = SubscriptionFacts {
        id: Uuid::from_u128(7),
        account_id: account(7),
        provider: "manual".into(),
        plan: "pro".into(),
        interval: M,
        seats: 1,
        status: A,
        created_at: at("2026-01-01T00:00:00Z"),
        trial_ended_at: None,
        canceled_at: None,
        kept_price: Some(kept),
        kept_until: Some(at("2026-03-01T00:00:00Z")),
    };
    let h = build(&row, &[]);
    let rate = |t| super::mrr::run_rate_before(&catalog, &h, None, at(t));
    assert_eq!(rate("2026-02-15T00:00:00Z"), d("480"), "12 × the kept $40");
    assert_eq!(
        rate("2026-03-01T00:00:01Z"),
        d("588"),
        "12 × the catalog's $49 once moved"
    );
    // On another plan the kept price does not apply; without a move it lasts.
    let c = |plan: &str, t| ChangeFacts {
        plan: plan.into(),
        interval: M,
        seats: None,
        status: A,
        at: at(t),
    };
    let h = build(
        &SubscriptionFacts {
            kept_until: None,
            ..row.clone()
        },
        &[
            c("starter", "2026-01-01T00:00:00Z"),
            c("pro", "2026-02-01T00:00:00Z"),
        ],
    );
    assert_eq!(
        h.before(at("2026-01-15T00:00:00Z"))
            .and_then(|t| t.price.clone()),
        None
    );
    assert_eq!(
        super::mrr::run_rate_before(&catalog, &h, None, at("2026-06-01T00:00:00Z")),
        d("480")
    );
}

#[test]
fn coupons_that_recur() {
    let c = |discount, duration| Redemption {
        coupon: Coupon {
            code: Key::parse("c").expect("key"),
            name: "C".into(),
            discount,
            duration,
        },
        redeemed_at: at("2026-01-15T00:00:00Z"),
    };
    let catalog = emtchat();
    let terms = |plan: &str, interval| super::timeline::Terms {
        plan: plan.into(),
        interval,
        seats: 1,
        status: A,
        price: None,
    };
    let amount = |r: &Redemption, plan, interval, t| {
        super::mrr::run_rate(&catalog, &terms(plan, interval), Some(r), at(t))
    };
    let once = c(Discount::PercentOff(d("50")), Duration::Once);
    // Run rates: 12 × MRR.
    assert_eq!(
        amount(&once, "pro", M, "2026-02-01T00:00:00Z"),
        d("588"),
        "a once coupon is a one-off, not recurring"
    );
    let three = c(
        Discount::PercentOff(d("50")),
        Duration::Repeating { months: 3 },
    );
    assert_eq!(amount(&three, "pro", M, "2026-04-14T00:00:00Z"), d("294"));
    assert_eq!(
        amount(&three, "pro", M, "2026-04-15T00:00:00Z"),
        d("588"),
        "it ends three months after redemption"
    );
    assert_eq!(
        amount(&three, "pro", M, "2026-01-14T00:00:00Z"),
        d("588"),
        "not before it was redeemed"
    );
    let ten = c(Discount::AmountOff(d("120")), Duration::Forever);
    assert_eq!(
        amount(&ten, "pro", Y, "2026-02-01T00:00:00Z"),
        d("370"),
        "490 − 120"
    );
    assert_eq!(
        amount(&ten, "starter", M, "2026-02-01T00:00:00Z"),
        Decimal::ZERO,
        "never below zero"
    );
}

#[test]
fn an_empty_business() {
    let r = report::build(&emtchat(), &Input::default(), at(NOW), 12);
    assert_eq!(r.now.mrr, Decimal::ZERO);
    assert_eq!(r.now.arpa, None);
    assert!(r.now.by_plan.is_empty());
    assert!(r.months.iter().all(|m| m.logo_churn_rate.is_none()
        && m.net_revenue_retention.is_none()
        && m.billed.is_zero()));
}

const PLANS: [&str; 4] = ["free", "starter", "pro", "team"];
const STATUSES: [Status; 5] = [T, A, P, Status::Unpaid, Status::Incomplete];

fn arb_step() -> impl Strategy<Value = (i64, usize, bool, u32, usize)> {
    (
        0i64..400 * 24,
        0..PLANS.len(),
        any::<bool>(),
        1u32..8,
        0..STATUSES.len(),
    )
}

/// Random subscriptions: up to 4 changes each over the 400 days before `NOW`,
/// maybe canceled, maybe with a percent coupon on the account.
fn arb_input() -> impl Strategy<Value = Input> {
    let sub = (
        0u128..6,
        prop::collection::vec(arb_step(), 1..5),
        prop::option::of(0i64..400 * 24),
        any::<bool>(),
    );
    (
        prop::collection::vec(sub, 0..12),
        prop::collection::vec((0u128..6, 1u32..=100, any::<bool>()), 0..4),
    )
        .prop_map(|(subs, coupons)| {
            let now = at(NOW);
            let hours = |h: i64| now - chrono::Duration::hours(400 * 24 - h);
            let histories = subs
                .iter()
                .enumerate()
                .map(|(i, (acc, steps, canceled, stripe))| {
                    let mut steps = steps.clone();
                    steps.sort_by_key(|s| s.0);
                    let changes: Vec<ChangeFacts> = steps
                        .iter()
                        .map(|(h, p, year, seats, s)| ChangeFacts {
                            plan: PLANS[*p].into(),
                            interval: if *year { Y } else { M },
                            seats: Some(*seats),
                            status: STATUSES[*s],
                            at: hours(*h),
                        })
                        .collect();
                    let last = changes.last().expect("one step at least");
                    let row = SubscriptionFacts {
                        id: Uuid::from_u128(100 + i as u128),
                        account_id: account(*acc),
                        provider: if *stripe {
                            "stripe".into()
                        } else {
                            "manual".into()
                        },
                        plan: last.plan.clone(),
                        interval: last.interval,
                        seats: last.seats.unwrap_or(1),
                        status: last.status,
                        created_at: changes[0].at,
                        trial_ended_at: None,
                        canceled_at: canceled.map(hours).filter(|c| *c > changes[0].at),
                        kept_price: None,
                        kept_until: None,
                    };
                    build(&row, &changes)
                })
                .collect();
            let coupons = coupons
                .into_iter()
                .map(|(acc, pct, forever)| {
                    let coupon = Coupon {
                        code: Key::parse("c").expect("key"),
                        name: "C".into(),
                        discount: Discount::PercentOff(Decimal::from(pct)),
                        duration: if forever {
                            Duration::Forever
                        } else {
                            Duration::Repeating { months: 3 }
                        },
                    };
                    (
                        account(acc),
                        Redemption {
                            coupon,
                            redeemed_at: now - chrono::Duration::days(200),
                        },
                    )
                })
                .collect();
            Input {
                histories,
                coupons,
                ..Input::default()
            }
        })
}

proptest! {
    /// MRR now is the sum of each live paying subscription's normalised amount,
    /// worked out here from the catalog's prices directly: price × seats for
    /// per-seat plans, less a running percent coupon, as a yearly run rate (× 12
    /// for monthly prices; MRR is that ÷ 12, exactly, before rounding).
    #[test]
    fn mrr_is_the_sum_of_normalised_amounts(input in arb_input()) {
        let catalog = emtchat();
        let now = at(NOW);
        let mut expected = Decimal::ZERO;
        for h in &input.histories {
            let Some(t) = h.before(now + chrono::Duration::microseconds(1)) else { continue };
            if !matches!(t.status, Status::Active | Status::PastDue) {
                continue;
            }
            let plan = catalog.plan(&t.plan).expect("plan");
            let price = plan.price(t.interval).expect("price");
            let seats = if price.per_seat { Decimal::from(t.seats) } else { Decimal::ONE };
            let mut amount = price.amount.amount * seats;
            if let Some(r) = input.coupons.get(&h.account_id) {
                let running = match r.coupon.duration {
                    Duration::Forever => true,
                    Duration::Repeating { months } => now < r.redeemed_at.checked_add_months(chrono::Months::new(months)).expect("date"),
                    Duration::Once => false,
                };
                if let (true, Discount::PercentOff(p)) = (running, r.coupon.discount) {
                    amount -= amount * p / Decimal::ONE_HUNDRED;
                }
            }
            expected += amount * Decimal::from(12 / t.interval.months());
        }
        let e = exact_now(&catalog, &input, now);
        prop_assert_eq!(e.run_rate, expected);
        let by_plan: Decimal = e.by_plan.values().map(|v| v.0).sum();
        let by_provider: Decimal = e.by_provider.values().map(|v| v.0).sum();
        prop_assert_eq!(by_plan, e.run_rate);
        prop_assert_eq!(by_provider, e.run_rate);
    }

    /// Every month's waterfall adds up: closing = opening + new + reactivation +
    /// expansion − contraction − churn, a month opens where the last one closed,
    /// and the last month closes at MRR now.
    #[test]
    fn the_waterfall_adds_up(input in arb_input()) {
        let catalog = emtchat();
        let now = at(NOW);
        let months = super::month::last_months(now, 13);
        let mut previous: Option<Decimal> = None;
        for m in &months {
            let mv = super::movements::of_month(&catalog, &input.histories, &input.coupons, m);
            prop_assert_eq!(mv.closing, mv.opening + mv.net_new());
            if let Some(p) = previous {
                prop_assert_eq!(mv.opening, p);
            }
            prop_assert!(mv.churned_customers <= mv.customers_opening);
            previous = Some(mv.closing);
        }
        prop_assert_eq!(previous, Some(exact_now(&catalog, &input, now).run_rate));
    }
}
